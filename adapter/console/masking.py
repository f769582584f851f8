"""Mask a FHIR resource's patient details for the console (mappings/console-masking.json).

The shape stays (which elements there are, codes and systems), the values that could identify
the person become the mask: names, identifiers' values, birth dates, addresses, telecoms, free text.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from adapter.mapping.codes import mappings_dir


@cache
def _rules() -> dict:
    rules: dict = json.loads((mappings_dir() / "console-masking.json").read_text(encoding="utf-8"))
    return rules


def mask(value: Any) -> Any:
    """A copy of `value` (a resource, a Bundle or any part) with patient details masked."""
    rules = _rules()
    if isinstance(value, list):
        return [mask(item) for item in value]
    if not isinstance(value, dict):
        return value
    masked: dict[str, Any] = {}
    is_reference = "reference" in value and rules["reference_display"]
    for key, item in value.items():
        if key in rules["whole"] or (is_reference and key == "display"):
            masked[key] = _all_masked(item)
        elif key in rules["identifier_value"]:
            masked[key] = [_identifier(i) for i in item] if isinstance(item, list) else item
        else:
            masked[key] = mask(item)
    return masked


def _identifier(identifier: Any) -> Any:
    if not isinstance(identifier, dict):
        return _all_masked(identifier)
    shown = mask({k: v for k, v in identifier.items() if k != "value"})
    if "value" in identifier:
        shown["value"] = _rules()["mask"]
    return shown


def _all_masked(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _all_masked(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_all_masked(item) for item in value]
    return _rules()["mask"]
