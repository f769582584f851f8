"""Small helpers shared by the mapping modules: references, extensions, date-times, errors."""

from __future__ import annotations

from datetime import date, datetime

from adapter.errors import InvalidInput, Issue
from adapter.mapping import codes


def reference(resource_type: str, resource_id: str) -> dict:
    """A relative Reference, e.g. {"reference": "Patient/123"}."""
    return {"reference": f"{resource_type}/{resource_id}"}


def reference_id(value: object, resource_type: str) -> str | None:
    """The id of a relative Reference to resource_type, or None."""
    if isinstance(value, dict):
        ref = value.get("reference")
        prefix = f"{resource_type}/"
        if isinstance(ref, str) and ref.startswith(prefix):
            return ref[len(prefix) :]
    return None


def profile(resource_type: str) -> dict:
    """A meta element claiming our profile (where we have one) and UK Core's for this type."""
    claimed = [
        url
        for key in (f"ld-profile.{resource_type}", f"profile.{resource_type}")
        if (url := codes.optional_url(key))
    ]
    return {"profile": claimed}


def coded_extension(key: str, code_list: str, code: str) -> dict:
    """A project extension whose value is a Coding from one code list."""
    return {"url": codes.url(f"extension.{key}"), "valueCoding": codes.coding(code_list, code)}


def find_extension(element: dict, key: str) -> dict | None:
    """The first extension of element with the URL named by key in fhir-urls.json."""
    wanted = codes.url(f"extension.{key}")
    for ext in as_list(element.get("extension")):
        if isinstance(ext, dict) and ext.get("url") == wanted:
            return ext
    return None


def sub_extension(extension: dict, name: str) -> dict | None:
    """The sub-extension of a complex extension with this relative url."""
    for ext in as_list(extension.get("extension")):
        if isinstance(ext, dict) and ext.get("url") == name:
            return ext
    return None


def code_from_extension(element: dict, key: str, code_list: str, expression: str) -> str:
    """The code of a required coded project extension; InvalidInput when absent or unknown."""
    ext = find_extension(element, key)
    coding = ext.get("valueCoding") if ext else None
    code = codes.code_from(code_list, [coding])
    if code is None:
        raise invalid(
            f"Expected extension {codes.url(f'extension.{key}')} with a code from "
            f"{codes.system(code_list)}.",
            expression,
        )
    return code


def invalid(diagnostics: str, expression: str) -> InvalidInput:
    """An InvalidInput for one FHIR element (diagnostics must not hold patient data)."""
    return InvalidInput(Issue(diagnostics, code="invalid", expression=(expression,)))


def fhir_datetime(value: datetime) -> str:
    """A FHIR dateTime; the domain only holds zoned date-times."""
    return value.isoformat()


def parse_datetime(value: object, expression: str) -> datetime:
    """A zoned datetime from a FHIR dateTime with time and zone."""
    if isinstance(value, str) and len(value) > 10:
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            parsed = None
        if parsed is not None and parsed.tzinfo is not None:
            return parsed
    raise invalid("Expected a dateTime with time and zone.", expression)


def parse_date(value: object, expression: str) -> date | None:
    """A full date from a FHIR date; None for a partial date (year or year-month)."""
    if value is None:
        return None
    if isinstance(value, str) and len(value) in (4, 7) and value[:4].isdigit():
        return None
    if isinstance(value, str) and len(value) == 10:
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise invalid("Expected a date, YYYY-MM-DD.", expression)


def as_list(value: object) -> list:
    """value when it is a JSON array, else an empty one."""
    return value if isinstance(value, list) else []


def as_dict(value: object) -> dict:
    """value when it is a JSON object, else an empty one (partner data may have any shape)."""
    return value if isinstance(value, dict) else {}


def string_or_none(value: object) -> str | None:
    """value when it is a non-empty string, else None."""
    return value if isinstance(value, str) and value else None
