"""The validator's entry points: payload in, every Issue out; and the OperationOutcome view."""

from __future__ import annotations

from adapter.conformance.definitions import definitions
from adapter.conformance.messages import issue
from adapter.conformance.walker import Walker
from adapter.errors import Issue, operation_outcome
from adapter.json_input import JsonInputError, load_json


def validate_resource(payload: dict | bytes | str) -> list[Issue]:
    """Every base-spec problem in a FHIR R4 resource or Bundle (with its entries); [] if valid."""
    if isinstance(payload, bytes | bytearray | memoryview | str):
        parsed, problem = parse_json(payload)
        if problem is not None:
            return [problem]
    else:
        parsed = payload
    return validate_parsed(parsed)


def validate_parsed(parsed: object) -> list[Issue]:
    """Every base-spec problem in already parsed JSON (a string here is a JSON string, not text)."""
    if not isinstance(parsed, dict):
        return [issue("LD-JSON-NOT-OBJECT", "", "a FHIR resource must be a JSON object")]
    walker = Walker(definitions())
    try:
        walker.resource(parsed, "")
    except RecursionError:  # hostile nesting: answer with an issue, never a 500
        why = "the payload is nested too deeply to validate"
        return [*walker.issues, issue("LD-JSON-TOO-DEEP", "", why)]
    return walker.issues


def parse_json(payload: bytes | bytearray | memoryview | str) -> tuple[object, Issue | None]:
    """Parsed JSON, or an issue saying why not: where the syntax breaks, or which key repeats."""
    try:
        return load_json(payload), None
    except JsonInputError as exc:
        message_id = "LD-JSON-TOO-DEEP" if exc.code == "too-costly" else "LD-JSON-INVALID"
        return None, issue(message_id, "", f"the body {exc}")


def outcome_for(issues: list[Issue]) -> dict:
    """An OperationOutcome for these issues; one 'all OK' information issue when there are none."""
    if not issues:
        issues = [issue("LD-OK", "", "no problems found against the FHIR R4 base specification")]
    return operation_outcome(issues)


def has_errors(issues: list[Issue]) -> bool:
    """Whether any issue is an error or fatal (warnings and information do not reject)."""
    return any(i.severity in ("error", "fatal") for i in issues)
