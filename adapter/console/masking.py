"""Mask a FHIR resource's patient details for the console (mappings/console-masking.json).

Safe by default: the shape stays (which elements there are) and so do structural values (types,
ids, codes, systems, statuses, urls: an allow-list); every other string becomes the mask, so an
element nobody thought of (an identifier in a Reference, a title, a new extension) is masked too.
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
    """A copy of `value` (a resource, a Bundle, any part or plain text) with its details masked."""
    return _masked(value, None, {})


def _masked(value: Any, key: str | None, parent: dict) -> Any:
    if isinstance(value, dict):
        return {k: _element(k, item, value) for k, item in value.items()}
    if isinstance(value, list):
        return [_masked(item, key, parent) for item in value]
    if isinstance(value, str) and not _kept(key, value, parent):
        return _binary(value, parent) if key in _rules()["binary"] else _rules()["mask"]
    return value  # numbers, booleans and null say nothing about the person on their own


def _element(key: str, item: Any, parent: dict) -> Any:
    return item if key in _rules()["keep_whole"] else _masked(item, key, parent)


def _kept(key: str | None, text: str, parent: dict) -> bool:
    rules = _rules()
    if key in rules["query_masked"] and "?" in text:
        return False  # a conditional reference or a search may carry an identifier
    if key == "display":  # a Coding's names a code; a Reference's names the person
        is_coding = "code" in parent and not {"reference", "identifier"} & parent.keys()
        return bool(rules["coding_display"]) and is_coding
    return key in rules["keep"]


def _binary(content: str, parent: dict) -> str:
    """Base64 content (a PDF, a letter): the mask, its decoded size and its type, never a byte."""
    size = len(content) * 3 // 4 - content[-2:].count("=")
    kind = parent.get("contentType")
    described = f"{size} bytes, {kind}" if isinstance(kind, str) else f"{size} bytes"
    return f"{_rules()['mask']} ({described})"
