"""Issues the QuestionnaireResponse validator finds, re-pointed at native assessment paths.

The Questionnaire's own rules (enableWhen, required, repeats) are checked on the response an
assessment maps to; its FHIRPath expressions become native paths (`answers.<linkId>[n]`).
"""

from __future__ import annotations

import re
from typing import Any

from adapter.conformance.questionnaire_index import CompiledQuestionnaire, QuestionnaireIndex
from adapter.conformance.questionnaire_response import validate_questionnaire_response
from adapter.domain.assessment import Assessment, AssessmentResourceIds
from adapter.errors import InvalidInput, Issue
from adapter.mapping.assessment import questionnaire_response_from_assessment

_ITEM_PATH = re.compile(r"\.(item|answer)\[(\d+)\]")
_QUOTED = re.compile(r"'([^']+)'")


def native_path_for(expression: str, response: dict) -> str:
    """The native field path (`answers.<linkId>[n]`) for a FHIRPath into a mapped response."""
    node: Any = response
    item: dict | None = None
    answer: int | None = None
    for part, index in _ITEM_PATH.findall(expression):
        node = node.get(part) if isinstance(node, dict) else None
        node = node[int(index)] if isinstance(node, list) and int(index) < len(node) else None
        if part == "item" and isinstance(node, dict):
            item, answer = node, None
        elif part == "answer":
            answer = int(index)
    if item is None:
        return "answers"
    link_id = item.get("linkId")
    if answer is None and "answer" not in item:
        link_id = _first_answered(item.get("item"))  # a group: point at its first answer
    if not isinstance(link_id, str):
        return "answers"
    return f"answers.{link_id}" + (f"[{answer}]" if answer is not None else "")


def _first_answered(items: object) -> str | None:
    for item in items if isinstance(items, list) else ():
        if isinstance(item, dict):
            if item.get("answer"):
                return item.get("linkId")
            found = _first_answered(item.get("item"))
            if found:
                return found
    return None


def _first_required(q: CompiledQuestionnaire | None, link_id: str) -> str:
    """A missing required group is named by its first required question (the native key)."""
    while q is not None and link_id in q.items and q.items[link_id].type == "group":
        children = [c for c in q.items[link_id].children if q.items[c].required]
        if not children:
            break
        link_id = children[0]
    return link_id


def native_issues(
    issues: list[Issue], response: dict, questionnaire: CompiledQuestionnaire | None = None
) -> list[Issue]:
    """Validator errors on a mapped response, re-pointed at native paths (warnings dropped)."""
    found = []
    for i in issues:
        if i.severity not in ("error", "fatal"):
            continue
        quoted = _QUOTED.search(i.diagnostics)
        if i.message_id == "LD-QR-REQUIRED-MISSING" and quoted:
            # Reported on the parent: name the missing item instead.
            path = f"answers.{_first_required(questionnaire, quoted.group(1))}"
        else:
            path = native_path_for(i.expression[0] if i.expression else "", response)
        found.append(Issue(i.diagnostics, i.code, i.severity, (path,), i.message_id))
    return found


def check_with_questionnaire(assessment: Assessment, index: QuestionnaireIndex) -> None:
    """Apply the Questionnaire's rules (enableWhen, required, repeats); InvalidInput if broken."""
    questionnaire = index.get(assessment.questionnaire)
    if questionnaire is None:
        raise ValueError("the assessment's questionnaire is not in the index")
    ids = AssessmentResourceIds("check", "check")
    response = questionnaire_response_from_assessment(
        assessment, ids, "check", "check", questionnaire
    )
    found = validate_questionnaire_response(response, index)
    issues = native_issues(found, response, questionnaire)
    if issues:
        raise InvalidInput(issues)
