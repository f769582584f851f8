"""Checks of one primitive value against its R4 JSON type, regex and range."""

from __future__ import annotations

import datetime as dt
import re

from adapter.conformance.definitions import JSON_TYPES, Primitive
from adapter.conformance.messages import issue, json_type
from adapter.conformance.narrative import xhtml_problem
from adapter.errors import Issue

_DATE_PART = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_TIME_NO_ZONE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?")
_HINTS = {
    "dateTime": "YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDThh:mm:ss with a time zone",
    "instant": "YYYY-MM-DDThh:mm:ss(.sss) with a time zone",
    "date": "YYYY, YYYY-MM or YYYY-MM-DD",
    "time": "hh:mm:ss",
    "id": "1-64 letters, digits, '-' or '.'",
    "code": "no leading, trailing or double whitespace",
    "oid": "urn:oid: followed by a dotted OID",
    "uuid": "urn:uuid: followed by a lower-case UUID",
    "uri": "no whitespace",
    "url": "no whitespace",
    "canonical": "no whitespace",
    "base64Binary": "base64 text",
    "xhtml": "an XHTML <div> element",
}


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def check_primitive(value: object, prim: Primitive, path: str) -> Issue | None:
    """The one problem with this primitive value, or None when it is valid R4."""
    expected = JSON_TYPES[prim.json_type]
    if isinstance(value, bool) != (prim.json_type == "boolean") or not isinstance(value, expected):
        return issue(
            "LD-STRUCT-WRONG-JSON-TYPE",
            path,
            f"{prim.name} must be a JSON {prim.json_type}; found a JSON {json_type(value)}",
        )
    if isinstance(value, str):
        return check_text(value, prim, path)
    low, high = prim.low, prim.high
    if isinstance(value, int) and low is not None and high is not None and not low <= value <= high:
        why = f"{prim.name} must be between {low} and {high}; found a number outside that range"
        return issue("LD-VALUE-RANGE", path, why)
    return None


def check_text(value: str, prim: Primitive, path: str) -> Issue | None:
    """The one problem with a string value of a primitive that travels as a JSON string."""
    if not value:
        return issue("LD-VALUE-EMPTY-STRING", path, f"{prim.name} must not be an empty string")
    # R4 datatypes: no character below U+0020 but tab, CR and LF (the regexes' \S lets them by).
    if _CONTROL.search(value):
        why = f"{prim.name} must not hold control characters other than tab, CR and LF"
        return issue("LD-VALUE-CONTROL-CHARACTER", path, why)
    if prim.pattern is not None and not prim.pattern.fullmatch(value):
        if prim.name == "dateTime" and _TIME_NO_ZONE.fullmatch(value):
            why = "a dateTime with a time must include seconds and a time zone (Z or +hh:mm)"
            return issue("LD-VALUE-FORMAT", path, why)
        hint = _HINTS.get(prim.name, "the R4 format")
        return issue("LD-VALUE-FORMAT", path, f"{prim.name} does not match its format: {hint}")
    if prim.name == "xhtml":
        problem = xhtml_problem(value)
        return issue("LD-VALUE-XHTML", path, problem) if problem else None
    if prim.name in ("date", "dateTime", "instant"):
        found = _DATE_PART.match(value)
        if found and not _real_date(*found.groups()):
            return issue("LD-VALUE-FORMAT", path, f"{prim.name} names a day the calendar lacks")
    return None


def _real_date(year: str, month: str, day: str) -> bool:
    try:
        dt.date(int(year), int(month), int(day))
    except ValueError:
        return False
    return True
