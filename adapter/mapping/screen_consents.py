"""A completed screen's consent answers as the referral's consent decisions (rules in mappings/)."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass

from adapter.domain import ConsentDecision
from adapter.domain.assessment import AnswerValue, Assessment, CodedAnswer
from adapter.mapping.codes import mappings_dir


@dataclass(frozen=True)
class _Rules:
    questionnaire: str
    capacity_link_id: str
    capacity_scope: str
    capacity_unanswered: str
    decisions: tuple[tuple[str, str, dict[str, str]], ...]  # linkId, scope, answer -> decision


@functools.cache
def _rules() -> _Rules:
    document = json.loads((mappings_dir() / "screening-consents.json").read_text())
    capacity = document["capacity"]
    return _Rules(
        questionnaire=document["questionnaire"],
        capacity_link_id=capacity["linkId"],
        capacity_scope=capacity["scope"],
        capacity_unanswered=capacity["unanswered"],
        decisions=tuple((r["linkId"], r["scope"], r["decisions"]) for r in document["rules"]),
    )


def _answer_key(value: AnswerValue) -> str | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, CodedAnswer):
        return value.code
    return value if isinstance(value, str) else None


def _first(assessment: Assessment, link_id: str) -> str | None:
    values = assessment.answers.get(link_id, ())
    return _answer_key(values[0]) if values else None


def _decided(assessment: Assessment, rules: _Rules) -> dict[str, str]:
    """The decision per scope this screen's answers record."""
    decided = {}
    for link_id, scope, decisions in rules.decisions:
        decision = decisions.get(_first(assessment, link_id) or "")
        if decision is not None:
            decided[scope] = decision
    return decided


def consents_after_screen(
    current: tuple[ConsentDecision, ...], assessment: Assessment
) -> tuple[ConsentDecision, ...]:
    """The referral's consent decisions with this screen's answers taken in.

    A decision that changes (or a capacity the screen found differently) is recorded anew with the
    practitioner and the screen's time; unchanged ones keep their record. Order is kept, new scopes
    come last, so each scope keeps its Consent resource and gets a new version.
    """
    rules = _rules()
    if assessment.questionnaire.partition("|")[0] != rules.questionnaire:
        return current
    capacity_found = _first(assessment, rules.capacity_link_id)
    capacity = capacity_found or rules.capacity_unanswered
    by_scope = {decision.scope: decision for decision in current}
    decided = _decided(assessment, rules)
    screening = by_scope.get(rules.capacity_scope)
    if screening and capacity_found and rules.capacity_scope not in decided:
        decided[rules.capacity_scope] = screening.decision
    updated = list(current)
    for scope, decision in decided.items():
        existing = by_scope.get(scope)
        if existing and (existing.decision, existing.capacity) == (decision, capacity):
            continue
        new = ConsentDecision(
            scope=scope,
            decision=decision,
            capacity=capacity,
            recorded_by=assessment.practitioner.name,
            recorded_at=assessment.ended_at or assessment.started_at,
            recorded_by_role=assessment.practitioner.role_text,
            lawful_basis=existing.lawful_basis if existing else None,
        )
        if existing:
            updated[current.index(existing)] = new
        else:
            updated.append(new)
    return tuple(updated)
