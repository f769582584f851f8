"""What an answer's value[x] must look like, and whether it comes from the item's options."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from adapter.conformance.questionnaire_index import ItemDef

# value[x] key -> (test of the JSON value, what the diagnostics say it must be).
FORMATS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "valueBoolean": (lambda v: isinstance(v, bool), "true or false"),
    "valueInteger": (lambda v: isinstance(v, int) and not isinstance(v, bool), "a whole number"),
    "valueDecimal": (
        lambda v: isinstance(v, int | float) and not isinstance(v, bool),
        "a number",
    ),
    "valueDate": (
        lambda v: isinstance(v, str) and re.fullmatch(r"\d{4}(-\d{2}(-\d{2})?)?", v) is not None,
        "a date (YYYY, YYYY-MM or YYYY-MM-DD)",
    ),
    "valueDateTime": (
        lambda v: (
            isinstance(v, str)
            and re.fullmatch(
                r"\d{4}(-\d{2}(-\d{2}(T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2}))?)?)?", v
            )
            is not None
        ),
        "a dateTime (a time needs seconds and a timezone)",
    ),
    "valueTime": (
        lambda v: isinstance(v, str) and re.fullmatch(r"\d{2}:\d{2}:\d{2}(\.\d+)?", v) is not None,
        "a time (hh:mm:ss)",
    ),
    "valueString": (lambda v: isinstance(v, str) and v != "", "a non-empty string"),
    "valueUri": (lambda v: isinstance(v, str) and v != "", "a URI"),
    "valueCoding": (lambda v: isinstance(v, dict), "a Coding object"),
    "valueQuantity": (lambda v: isinstance(v, dict), "a Quantity object"),
    "valueAttachment": (lambda v: isinstance(v, dict), "an Attachment object"),
    "valueReference": (lambda v: isinstance(v, dict), "a Reference object"),
}


def value_key(answer: dict) -> str | None:
    """The answer's value[x] key, or None when it has no value."""
    return next((k for k in answer if k.startswith("value")), None)


def format_problem(definition: ItemDef, key: str, value: Any) -> str | None:
    """Diagnostics when the value is not well formed for its value[x] key, else None."""
    test, wanted = FORMATS[key]
    if test(value):
        return None
    return f"{key} of item '{definition.link_id}' must be {wanted}; found something else."


def option_problem(definition: ItemDef, key: str, value: Any) -> str | None:
    """Diagnostics when a well-formed value is not among the item's options, else None."""
    if key == "valueCoding" and definition.codings is not None:
        coded = (value.get("system"), value.get("code"))
        if all(isinstance(part, str) for part in coded) and coded in definition.codings:
            return None
        return (
            f"The code answering '{definition.link_id}' must come from "
            f"{definition.options_from}; the system and code found are not in it."
        )
    free_text = key == "valueString" and definition.type == "open-choice"  # other text allowed
    if (
        definition.primitive_options is not None
        and not free_text
        and (key, value) not in definition.primitive_options
    ):
        return (
            f"The answer to '{definition.link_id}' must be one of "
            f"{definition.options_from}; the value found is not."
        )
    return None
