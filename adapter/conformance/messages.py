"""Stable message ids of the validator, each with its FHIR issue-type code and severity."""

from __future__ import annotations

from adapter.errors import Issue

# message_id -> (issue code, severity). Ids are a public contract: never rename one.
MESSAGES: dict[str, tuple[str, str]] = {
    "LD-OK": ("informational", "information"),
    "LD-JSON-INVALID": ("structure", "error"),
    "LD-JSON-NOT-OBJECT": ("structure", "error"),
    "LD-JSON-TOO-DEEP": ("too-costly", "error"),
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
    "LD-VALUE-CONTROL-CHARACTER": ("value", "error"),
    "LD-VALUE-FORMAT": ("value", "error"),
    "LD-VALUE-RANGE": ("value", "error"),
    "LD-VALUE-XHTML": ("value", "error"),
    "LD-CODE-NOT-IN-VALUESET": ("code-invalid", "error"),
    "LD-REF-FORMAT": ("value", "error"),
    "LD-REF-TARGET-TYPE": ("value", "error"),
    "LD-REF-TYPE-MISMATCH": ("value", "error"),
    "LD-REF-CONTAINED-MISSING": ("not-found", "error"),
    "LD-REF-UNRESOLVED-UUID": ("not-found", "error"),
    "LD-REF-OUTSIDE-BUNDLE": ("not-found", "warning"),
    "LD-EXT-VALUE-AND-CHILDREN": ("invariant", "error"),
    "LD-EXT-NO-VALUE": ("invariant", "error"),
    "LD-EXT-URL-NOT-ABSOLUTE": ("value", "error"),
    "LD-ELEMENT-ID-ONLY": ("invariant", "error"),
    "LD-BUNDLE-DUPLICATE-FULLURL": ("invariant", "error"),
    "LD-BUNDLE-FULLURL-VERSIONED": ("invariant", "error"),
    "LD-BUNDLE-FULLURL-MISMATCH": ("invariant", "error"),
    "LD-BUNDLE-ENTRY-EMPTY": ("invariant", "error"),
    "LD-BUNDLE-FIRST-ENTRY": ("invariant", "error"),
    "LD-BUNDLE-REQUEST": ("invariant", "error"),
    "LD-BUNDLE-RESPONSE": ("invariant", "error"),
    "LD-BUNDLE-TOTAL": ("invariant", "error"),
    "LD-BUNDLE-SEARCH": ("invariant", "error"),
    "LD-BUNDLE-DOCUMENT": ("invariant", "error"),
    # R4 base invariants are FHIR-INV-<key> (invariants.py); this one when one cannot be evaluated.
    "LD-INVARIANT-NOT-EVALUATED": ("informational", "information"),
    # Profile tier: our StructureDefinitions (conformance/) and UK Core and BaRS (national/).
    "LD-PROFILE-NOT-OURS": ("informational", "information"),
    "LD-PROFILE-WRONG-TYPE": ("invalid", "error"),
    "LD-PROFILE-CARDINALITY-MIN": ("required", "error"),
    "LD-PROFILE-CARDINALITY-MAX": ("structure", "error"),
    "LD-PROFILE-FIXED": ("value", "error"),
    "LD-PROFILE-PATTERN": ("value", "error"),
    "LD-PROFILE-BINDING-REQUIRED": ("code-invalid", "error"),
    "LD-PROFILE-BINDING-EXTENSIBLE": ("code-invalid", "warning"),
    "LD-PROFILE-SLICE-MIN": ("required", "error"),
    "LD-PROFILE-SLICE-MAX": ("structure", "error"),
    "LD-PROFILE-EXTENSION-MISSING": ("required", "error"),
    "LD-PROFILE-EXTENSION-UNKNOWN": ("extension", "warning"),
    "LD-PROFILE-NHS-NUMBER": ("value", "error"),
    "LD-PROFILE-INVARIANT": ("invariant", "error"),
    "LD-PROFILE-INVARIANT-WARNING": ("invariant", "warning"),
    "LD-PROFILE-INVARIANT-FAILED": ("processing", "warning"),
    "LD-PROFILE-REFERENCE-TARGET": ("value", "error"),
    # A choice element (value[x]) of a type the profile does not allow; an extension out of context.
    "LD-PROFILE-TYPE": ("structure", "error"),
    "LD-PROFILE-EXTENSION-CONTEXT": ("structure", "error"),
    # A `|version` on a profile canonical other than the version held: checked against that one.
    "LD-PROFILE-VERSION-NOT-HELD": ("not-found", "warning"),
    # A required binding whose codes come from a system we do not hold (SNOMED CT, LOINC, dm+d).
    "LD-PROFILE-BINDING-NOT-CHECKED": ("informational", "information"),
    # Not in a required ValueSet, from a code system no package here holds (a retired UK Core one).
    "LD-PROFILE-BINDING-UNKNOWN-SYSTEM": ("code-invalid", "warning"),
    # Partner payloads claiming profiles we do not own: what the base spec allows, flagged.
    "LD-PARTNER-NHS-NUMBER": ("value", "warning"),  # retired: now LD-NHS-NUMBER-INVALID
    # Any resource: an NHS number (https://fhir.nhs.uk/Id/nhs-number) must pass Modulus 11.
    "LD-NHS-NUMBER-INVALID": ("value", "error"),
    # Message tier: MessageHeader, focus and our MessageDefinitions.
    "LD-MSG-FOCUS-MISSING": ("required", "error"),
    "LD-MSG-FOCUS-UNRESOLVED": ("not-found", "error"),
    "LD-MSG-FOCUS-TYPE": ("invalid", "error"),
    "LD-MSG-UNKNOWN-EVENT": ("not-supported", "error"),
    "LD-MSG-EVENT-MISMATCH": ("invalid", "error"),
    "LD-MSG-EVENT-SYSTEM-OLD": ("code-invalid", "warning"),
    "LD-MSG-DEFINITION-NOT-OURS": ("informational", "information"),
    "LD-MSG-DEFINITION-PARTNER": ("informational", "information"),
    "LD-MSG-NO-DEFINITION": ("informational", "information"),
    "LD-MSG-COUNT-MIN": ("required", "error"),
    "LD-MSG-COUNT-MAX": ("structure", "error"),
    # QuestionnaireResponses that do not name one of our Questionnaires: answers not checked.
    "LD-QR-QUESTIONNAIRE-MISSING": ("incomplete", "warning"),
    "LD-QR-QUESTIONNAIRE-NOT-OURS": ("incomplete", "warning"),
    # The validate command.
    "LD-FILE-UNREADABLE": ("exception", "error"),
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
