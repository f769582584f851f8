"""enableWhen over one QuestionnaireResponse: which items its answers leave enabled.

enablement = Enablement(questionnaire)
enablement.collect(response.get("item"))              # every answer, by linkId
enablement.enabled("smoker-details")                  # this item and all its ancestors
"""

from __future__ import annotations

from typing import Any

from adapter.conformance.answer_values import value_key
from adapter.conformance.questionnaire_index import CompiledQuestionnaire, Condition, ItemDef


class Enablement:
    """The answers of one response by linkId, and the enableWhen results they give (memoised)."""

    def __init__(self, questionnaire: CompiledQuestionnaire) -> None:
        self.q = questionnaire
        self.answers: dict[str, list[tuple[str | None, Any]]] = {}
        self._enabled: dict[str, bool] = {}

    def collect(self, items: Any) -> None:
        """First pass: every answer value by linkId, wherever it sits (enableWhen reads these)."""
        if not isinstance(items, list):
            return
        for item in items:
            if not isinstance(item, dict):
                continue
            answers = item.get("answer")
            link_id = item.get("linkId")
            if isinstance(answers, list) and isinstance(link_id, str) and link_id in self.q.items:
                for answer in answers:
                    if isinstance(answer, dict):
                        key = value_key(answer)
                        self.answers.setdefault(item["linkId"], []).append((key, answer.get(key)))
                        self.collect(answer.get("item"))
            self.collect(item.get("item"))

    def enabled(self, link_id: str) -> bool:
        """Whether enableWhen (and every ancestor's enableWhen) lets this item be answered."""
        known = self._enabled.get(link_id)
        if known is not None:
            return known
        self._enabled[link_id] = True  # a cycle in enableWhen is a Questionnaire bug: do not loop
        item = self.q.items[link_id]
        result = (item.parent is None or self.enabled(item.parent)) and self._holds(item)
        self._enabled[link_id] = result
        return result

    def _holds(self, item: ItemDef) -> bool:
        if not item.conditions:
            return True
        results = (self._condition(c) for c in item.conditions)
        return any(results) if item.behavior == "any" else all(results)

    def _condition(self, condition: Condition) -> bool:
        # An answer to a disabled question counts as no answer (R4 Questionnaire.item.enableWhen).
        answers = self.answers.get(condition.question, [])
        if answers and not self.enabled(condition.question):
            answers = []
        if condition.operator == "exists":
            return bool(answers) == condition.expected
        outcomes = [_compare(condition, key, value) for key, value in answers]
        if condition.operator == "!=":
            return not any(o is True for o in outcomes)  # "no answer equals": true when unanswered
        return any(o is True for o in outcomes)


def _compare(condition: Condition, key: str | None, value: Any) -> bool | None:
    """How one answer compares with the enableWhen answer: True/False, None if not comparable."""
    if key is None or key.replace("value", "answer", 1) != condition.key:
        return None
    expected = condition.expected
    if condition.key == "answerCoding":
        if not isinstance(value, dict):
            return None
        found: Any = (value.get("system"), value.get("code"))
        return _apply(condition.operator, found == expected, None)
    if condition.key == "answerQuantity":
        if not isinstance(value, dict) or (value.get("system"), value.get("code")) != expected[1:]:
            return None
        value, expected = value.get("value"), expected[0]
    if value is None or isinstance(value, bool) != isinstance(expected, bool):
        return None
    try:
        order = (value > expected) - (value < expected)
    except TypeError:
        return None
    return _apply(condition.operator, order == 0, order)


def _apply(operator: str, equal: bool, order: int | None) -> bool | None:
    if operator in ("=", "!="):
        return equal
    if order is None:
        return None
    return {">": order > 0, "<": order < 0, ">=": order >= 0, "<=": order <= 0}.get(operator)
