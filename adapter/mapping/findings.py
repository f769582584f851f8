"""What a completed screen found, as the referral's vulnerability codes (rules in mappings/)."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass

from adapter.conformance.questionnaire_response import QuestionnaireIndex
from adapter.domain.assessment import AnswerValue, Assessment, CodedAnswer
from adapter.mapping.assessment import compiled_questionnaire
from adapter.mapping.codes import mappings_dir
from adapter.mapping.questionnaire_response import with_calculations


@dataclass(frozen=True)
class FindingRule:
    """One rule: an answer to `link_id` that counts as the vulnerability `finding`."""

    link_id: str
    finding: str
    codes: frozenset[str] = frozenset()
    when_true: bool = False
    at_least: int | None = None

    def matches(self, value: AnswerValue) -> bool:
        """True when this answer value is one the rule counts."""
        if isinstance(value, CodedAnswer):
            return value.code in self.codes
        if isinstance(value, str):
            return value in self.codes
        if isinstance(value, bool):
            return self.when_true and value
        if isinstance(value, int) and self.at_least is not None:
            return value >= self.at_least
        return False


@functools.cache
def _rules() -> tuple[str, tuple[FindingRule, ...]]:
    document = json.loads((mappings_dir() / "screening-findings.json").read_text())
    rules = tuple(
        FindingRule(
            link_id=rule["linkId"],
            finding=rule["finding"],
            codes=frozenset(rule.get("codes", ())),
            when_true=bool(rule.get("true", False)),
            at_least=rule.get("at_least"),
        )
        for rule in document["rules"]
    )
    return document["questionnaire"], rules


def screening_findings(assessment: Assessment, index: QuestionnaireIndex) -> tuple[str, ...]:
    """The vulnerability codes a screen's answers show, in rule order, each once.

    Only screens that follow the questionnaire the rules are written for count; calculated items
    (the AUDIT-C total) are computed first so rules can use them.
    """
    questionnaire_url, rules = _rules()
    if assessment.questionnaire.partition("|")[0] != questionnaire_url:
        return ()
    compiled = compiled_questionnaire(index, assessment.questionnaire)
    answers = with_calculations(compiled, dict(assessment.answers))
    found = [
        rule.finding
        for rule in rules
        if any(rule.matches(value) for value in answers.get(rule.link_id, ()))
    ]
    return tuple(dict.fromkeys(found))
