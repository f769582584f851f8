"""Native answer values ⇄ typed values, by the type of the Questionnaire item they answer.

A native answer is a JSON scalar (or a {system, code} object for a coded item); it becomes the
`AnswerValue` the item's type takes (bool, int, Decimal, str, date, datetime, CodedAnswer).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, cast

from marshmallow import ValidationError

from adapter.conformance.questionnaire_index import CompiledQuestionnaire, ItemDef
from adapter.domain.assessment import AnswerValue, CodedAnswer
from adapter.mapping.questionnaire_response import answer_display
from adapter.native.fields import Text, ZonedDateTime

MAX_ANSWERS = 50
MAX_TEXT = 4000


def typed_answers(q: CompiledQuestionnaire, raw: dict, errors: dict) -> dict:
    """Typed answers by linkId; problems go to errors["answers"][linkId]."""
    typed: dict[str, tuple[AnswerValue, ...]] = {}
    problems: dict[str, Any] = {}
    for link_id, values in raw.items():
        definition = q.items.get(link_id)
        if definition is None:
            problems[link_id] = [f"Unknown item: not a linkId of {q.url}|{q.version}."]
        elif definition.type in ("group", "display"):
            problems[link_id] = [f"Item is a {definition.type} and takes no answers."]
        elif definition.calculation is not None:
            problems[link_id] = ["Item is calculated by the adapter: leave it out."]
        elif not isinstance(values, list) or not values or len(values) > MAX_ANSWERS:
            problems[link_id] = [f"Expected a JSON array of 1 to {MAX_ANSWERS} answers."]
        else:
            parsed, item_problems = _values(q, definition, values)
            if item_problems:
                problems[link_id] = item_problems
            else:
                typed[link_id] = parsed
    if problems:
        errors["answers"] = problems
    return typed


def _values(
    q: CompiledQuestionnaire, definition: ItemDef, values: list
) -> tuple[tuple[AnswerValue, ...], dict[int, list[str]]]:
    parsed: list[AnswerValue] = []
    problems: dict[int, list[str]] = {}
    for index, value in enumerate(values):
        try:
            parsed.append(_value(q, definition, value))
        except ValidationError as error:
            problems[index] = cast(list[str], error.messages)
    return tuple(parsed), problems


def _value(q: CompiledQuestionnaire, definition: ItemDef, value: object) -> AnswerValue:
    """One native answer value as the typed value the item's type takes."""
    kind = definition.type
    if kind == "boolean" and isinstance(value, bool):
        return value
    if kind == "integer" and isinstance(value, int) and not isinstance(value, bool):
        return value
    if kind == "decimal" and isinstance(value, int | float) and not isinstance(value, bool):
        return Decimal(str(value))
    if kind in ("string", "text") and isinstance(value, str):
        return Text(MAX_TEXT).deserialize(value)
    if kind == "date" and isinstance(value, str):
        return _date(value)
    if kind == "dateTime" and isinstance(value, str):
        return cast(datetime, ZonedDateTime().deserialize(value))
    if kind in ("choice", "open-choice"):
        return _coded(q, definition, value)
    raise ValidationError(_expected(kind))


def _date(value: str) -> date:
    try:
        if len(value) == 10:
            return date.fromisoformat(value)
    except ValueError:
        pass
    raise ValidationError("Expected an ISO 8601 date, YYYY-MM-DD.")


def _coded(q: CompiledQuestionnaire, definition: ItemDef, value: object) -> AnswerValue:
    """A code string or {system, code} object resolved against the item's answer options."""
    options = definition.codings or frozenset()
    if isinstance(value, str):
        matches = [(s, c) for s, c in options if c == value]
        if definition.type == "open-choice" and not matches:
            return Text(MAX_TEXT).deserialize(value)
        if len(matches) > 1:
            raise ValidationError("Expected {system, code}: this code is in more than one system.")
        pair = matches[0] if matches else None
    elif isinstance(value, dict) and set(value) <= {"system", "code", "display"}:
        sent = (value.get("system"), value.get("code"))
        pair = sent if sent in options else None
    else:
        raise ValidationError("Expected a code string or an object with system and code.")
    if pair is None or pair[0] is None:
        raise ValidationError(f"Expected a code from {definition.options_from}.")
    system, code = pair[0], pair[1]
    return CodedAnswer(system, code, answer_display(q, system, code))


def _expected(kind: str) -> str:
    return {
        "boolean": "Expected true or false.",
        "integer": "Expected a whole number.",
        "decimal": "Expected a number.",
        "string": "Expected a string.",
        "text": "Expected a string.",
        "date": "Expected an ISO 8601 date, YYYY-MM-DD.",
        "dateTime": "Expected an ISO 8601 date-time with a zone, e.g. 2025-01-31T14:05:00Z.",
    }.get(kind, f"Items of type {kind} are not supported by the native API.")


def native_value(value: AnswerValue) -> object:
    """A typed answer value as the JSON value the native API sends."""
    if isinstance(value, CodedAnswer):
        return {"system": value.system, "code": value.code}
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value
