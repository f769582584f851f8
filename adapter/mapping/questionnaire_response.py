"""Assessment answers ⇄ a QuestionnaireResponse nested exactly as its Questionnaire's items."""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from adapter.conformance.questionnaire_response import (
    DEFAULT_DIRECTORIES,
    CompiledQuestionnaire,
    ItemDef,
)
from adapter.domain.assessment import AnswerValue, CodedAnswer
from adapter.mapping.common import invalid

Answers = Mapping[str, tuple[AnswerValue, ...]]


@functools.cache
def _code_system_displays() -> dict[tuple[str, str], str]:
    """Displays of every local CodeSystem concept, read once on first use."""
    displays: dict[tuple[str, str], str] = {}
    for directory in DEFAULT_DIRECTORIES:
        for path in sorted(directory.glob("CodeSystem-*.json")):
            resource = json.loads(path.read_text(encoding="utf-8"))
            stack = list(resource.get("concept", ()))
            while stack:
                concept = stack.pop()
                displays[(resource["url"], concept["code"])] = concept.get("display", "")
                stack.extend(concept.get("concept", ()))
    return displays


def _option_displays(raw_items: list[dict], found: dict[tuple[str, str], str]) -> None:
    for raw in raw_items:
        for option in raw.get("answerOption", ()):
            coding = option.get("valueCoding")
            if isinstance(coding, dict) and coding.get("display"):
                found[(coding.get("system", ""), coding["code"])] = coding["display"]
        _option_displays(raw.get("item", ()), found)


def answer_display(questionnaire: CompiledQuestionnaire, system: str, code: str) -> str | None:
    """The display of a coded answer: the answerOption's, else the CodeSystem's."""
    key = f"{questionnaire.url}|{questionnaire.version}"
    displays = _displays_for(key, questionnaire)
    return displays.get((system, code))


# Per Questionnaire: answerOption displays over the CodeSystems' (filled on first use).
_DISPLAYS: dict[str, dict[tuple[str, str], str]] = {}


def _displays_for(key: str, questionnaire: CompiledQuestionnaire) -> dict[tuple[str, str], str]:
    found = _DISPLAYS.get(key)
    if found is None:
        found = dict(_code_system_displays())
        _option_displays(questionnaire.resource.get("item", ()), found)
        _DISPLAYS[key] = found
    return found


def fhir_answer(value: AnswerValue) -> dict:
    """One QuestionnaireResponse.item.answer for a typed domain value."""
    if isinstance(value, CodedAnswer):
        coding = {"system": value.system, "code": value.code}
        if value.display:
            coding["display"] = value.display
        return {"valueCoding": coding}
    if isinstance(value, bool):
        return {"valueBoolean": value}
    if isinstance(value, int):
        return {"valueInteger": value}
    if isinstance(value, Decimal):
        return {"valueDecimal": int(value) if value == value.to_integral_value() else float(value)}
    if isinstance(value, datetime):  # before date: a datetime is a date
        return {"valueDateTime": value.isoformat()}
    if isinstance(value, date):
        return {"valueDate": value.isoformat()}
    return {"valueString": value}


def domain_answer(answer: dict, expression: str) -> AnswerValue:
    """The typed domain value of one answer; InvalidInput for a value[x] the domain cannot hold."""
    for key, value in answer.items():
        if not key.startswith("value"):
            continue
        parsed = _parse(key, value)
        if parsed is not None:
            return parsed
        break
    raise invalid(
        "Expected valueBoolean, valueInteger, valueDecimal, valueString, valueDate, "
        "valueDateTime or valueCoding.",
        expression,
    )


def _parse(key: str, value: Any) -> AnswerValue | None:
    try:
        if key == "valueBoolean" and isinstance(value, bool):
            return value
        if key == "valueInteger" and isinstance(value, int) and not isinstance(value, bool):
            return value
        if key == "valueDecimal" and isinstance(value, int | float) and not isinstance(value, bool):
            return Decimal(str(value))
        if key == "valueString" and isinstance(value, str) and value:
            return value
        if key == "valueDate" and isinstance(value, str) and len(value) == 10:
            return date.fromisoformat(value)
        if key == "valueDateTime" and isinstance(value, str) and len(value) > 10:
            parsed = datetime.fromisoformat(value)
            return parsed if parsed.tzinfo is not None else None
    except ValueError:
        return None
    if key == "valueCoding" and isinstance(value, dict):
        system, code = value.get("system"), value.get("code")
        if isinstance(system, str) and isinstance(code, str):
            display = value.get("display")
            return CodedAnswer(system, code, display if isinstance(display, str) else None)
    return None


def response_items(questionnaire: CompiledQuestionnaire, answers: Answers) -> list[dict]:
    """QuestionnaireResponse.item for these answers, nested as the Questionnaire nests them."""
    return _level(questionnaire, questionnaire.top, answers)


def _level(questionnaire: CompiledQuestionnaire, link_ids: list[str], answers: Answers) -> list:
    built = []
    for link_id in link_ids:
        definition = questionnaire.items[link_id]
        children = _level(questionnaire, definition.children, answers)
        values = answers.get(link_id, ())
        item: dict = {"linkId": link_id}
        if definition.text:
            item["text"] = definition.text
        if definition.type == "group":
            if not children:
                continue
            item["item"] = children
        elif values:
            item["answer"] = [fhir_answer(v) for v in values]
            if children:  # a question's own children sit under its (last) answer
                item["answer"][-1]["item"] = children
        elif children:
            item["item"] = children  # no answer: the validator reports the children's place
        else:
            continue
        built.append(item)
    return built


def with_calculations(questionnaire: CompiledQuestionnaire, answers: Answers) -> dict:
    """The answers plus each calculated item (e.g. the AUDIT-C total) whose section is answered."""
    calculated = {
        link_id: d
        for link_id, d in questionnaire.items.items()
        if d.calculation is not None and _section_answered(questionnaire, d, answers)
    }
    complete = {k: v for k, v in answers.items() if k not in calculated}
    if not calculated:
        return complete
    response = {
        "resourceType": "QuestionnaireResponse",
        "item": response_items(questionnaire, complete),
    }
    context = {"resource": response, "questionnaire": questionnaire.resource}
    for link_id, definition in calculated.items():
        assert definition.calculation is not None  # for mypy: filtered above
        result = definition.calculation(response, context)
        value = _calculated_value(definition, result[0] if result else None)
        if value is not None:
            complete[link_id] = (value,)
    return complete


def _section_answered(q: CompiledQuestionnaire, definition: ItemDef, answers: Answers) -> bool:
    siblings = q.items[definition.parent].children if definition.parent else q.top
    return any(answers.get(s) for s in siblings if s != definition.link_id)


def _calculated_value(definition: ItemDef, result: object) -> AnswerValue | None:
    if not isinstance(result, int | float | Decimal) or isinstance(result, bool):
        return None
    if definition.type == "integer":
        return int(result)
    return Decimal(str(result))


def answers_from_items(
    questionnaire: CompiledQuestionnaire, items: object, path: str
) -> dict[str, tuple[AnswerValue, ...]]:
    """linkId → values from QuestionnaireResponse.item, leaving out calculated items."""
    found: dict[str, list[AnswerValue]] = {}
    _collect(questionnaire, items, path, found)
    return {link_id: tuple(values) for link_id, values in found.items()}


def _collect(q: CompiledQuestionnaire, items: object, path: str, found: dict) -> None:
    if not isinstance(items, list):
        return
    for index, item in enumerate(items):
        item_path = f"{path}.item[{index}]"
        if not isinstance(item, dict):
            continue
        definition = q.items.get(item.get("linkId", ""))
        if definition is None:
            raise invalid(f"Expected a linkId of {q.url}|{q.version}.", f"{item_path}.linkId")
        for a_index, answer in enumerate(item.get("answer") or ()):
            if not isinstance(answer, dict):
                continue
            if definition.calculation is None:
                value = domain_answer(answer, f"{item_path}.answer[{a_index}]")
                found.setdefault(definition.link_id, []).append(value)
            _collect(q, answer.get("item"), f"{item_path}.answer[{a_index}]", found)
        _collect(q, item.get("item"), item_path, found)
