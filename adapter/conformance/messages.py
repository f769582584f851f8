"""Stable message ids of the validator, each with its FHIR issue-type code and severity."""

from __future__ import annotations

from adapter.errors import Issue

# message_id -> (issue code, severity). Ids are a public contract: never rename one.
MESSAGES: dict[str, tuple[str, str]] = {
    "LD-OK": ("informational", "information"),
    "LD-JSON-INVALID": ("structure", "error"),
    "LD-JSON-NOT-OBJECT": ("structure", "error"),
    "LD-STRUCT-NO-RESOURCE-TYPE": ("structure", "error"),
    "LD-STRUCT-UNKNOWN-RESOURCE-TYPE": ("structure", "error"),
    "LD-STRUCT-UNKNOWN-ELEMENT": ("structure", "error"),
    "LD-STRUCT-WRONG-JSON-TYPE": ("structure", "error"),
    "LD-STRUCT-EXPECTED-ARRAY": ("structure", "error"),
    "LD-STRUCT-UNEXPECTED-ARRAY": ("structure", "error"),
    "LD-STRUCT-EMPTY-ARRAY": ("structure", "error"),
    "LD-STRUCT-EMPTY-OBJECT": ("structure", "error"),
    "LD-STRUCT-NULL": ("structure", "error"),
    "LD-STRUCT-MULTIPLE-CHOICE": ("structure", "error"),
    "LD-STRUCT-PRIMITIVE-EXT-MISMATCH": ("structure", "error"),
    "LD-REQUIRED-MISSING": ("required", "error"),
    "LD-VALUE-EMPTY-STRING": ("value", "error"),
    "LD-VALUE-FORMAT": ("value", "error"),
    "LD-VALUE-RANGE": ("value", "error"),
    "LD-CODE-NOT-IN-VALUESET": ("code-invalid", "error"),
    "LD-REF-FORMAT": ("value", "error"),
    "LD-REF-TARGET-TYPE": ("value", "error"),
    "LD-REF-TYPE-MISMATCH": ("value", "error"),
    "LD-REF-CONTAINED-MISSING": ("not-found", "error"),
    "LD-REF-UNRESOLVED-UUID": ("not-found", "error"),
    "LD-REF-OUTSIDE-BUNDLE": ("not-found", "warning"),
    "LD-EXT-VALUE-AND-CHILDREN": ("invariant", "error"),
    "LD-EXT-NO-VALUE": ("invariant", "error"),
    "LD-BUNDLE-DUPLICATE-FULLURL": ("invariant", "error"),
    "LD-BUNDLE-FULLURL-VERSIONED": ("invariant", "error"),
    "LD-BUNDLE-ENTRY-EMPTY": ("invariant", "error"),
    "LD-BUNDLE-FIRST-ENTRY": ("invariant", "error"),
    "LD-BUNDLE-REQUEST": ("invariant", "error"),
    "LD-BUNDLE-RESPONSE": ("invariant", "error"),
    "LD-BUNDLE-TOTAL": ("invariant", "error"),
    "LD-BUNDLE-SEARCH": ("invariant", "error"),
    "LD-BUNDLE-DOCUMENT": ("invariant", "error"),
}


def issue(message_id: str, path: str, diagnostics: str) -> Issue:
    """An Issue for one of our message ids at one FHIRPath expression."""
    code, severity = MESSAGES[message_id]
    return Issue(
        diagnostics=diagnostics,
        code=code,
        severity=severity,
        expression=(path,) if path else (),
        message_id=message_id,
    )


def json_type(value: object) -> str:
    """The JSON type name of a parsed value, for diagnostics that must not echo values."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "empty string" if not value else "string"
    if isinstance(value, list):
        return "array"
    return "object"
