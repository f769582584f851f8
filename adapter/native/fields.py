"""Marshmallow fields for the native API: strict types, code-list checks, messages without values.

Every message names what was expected and never repeats what was sent (it may be patient data).
"""

from __future__ import annotations

import re
from typing import Any

from marshmallow import Schema, ValidationError, fields, post_dump

from adapter.domain import is_valid_nhs_number
from adapter.mapping import codes

# Characters below U+0020 other than tab, CR and LF are not allowed in FHIR strings.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
FHIR_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")
ODS_CODE = re.compile(r"[A-Z0-9]{3,10}")
PHONE = re.compile(r"\+?[0-9][0-9 ()-]{2,30}")
POSTCODE = re.compile(r"[A-Za-z0-9 ]{2,10}")

_REQUIRED = {"required": "This field is required.", "null": "This field may not be null."}


class Text(fields.String):
    """A non-blank string, trimmed, of bounded length, without control characters."""

    def __init__(
        self,
        max_length: int,
        *,
        pattern: re.Pattern[str] | None = None,
        hint: str = "Not in the expected format.",
        **kwargs: Any,
    ):
        kwargs.setdefault("error_messages", {})
        kwargs["error_messages"] = {
            **_REQUIRED,
            "invalid": "Expected a string.",
            **kwargs["error_messages"],
        }
        super().__init__(**kwargs)
        self.max_length = max_length
        self.pattern = pattern
        self.hint = hint

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs).strip()
        if not text:
            raise ValidationError("Expected a non-blank string.")
        if len(text) > self.max_length:
            raise ValidationError(f"Expected at most {self.max_length} characters.")
        if _CONTROL.search(text):
            raise ValidationError("Control characters are not allowed.")
        if self.pattern is not None and not self.pattern.fullmatch(text):
            raise ValidationError(self.hint)
        return text


class Code(Text):
    """A code that must be in one code list under `mappings/`.

    unless names a boolean concept property: codes where it is true are the adapter's own to
    record and are refused as input (e.g. a consent decision made on a lawful basis).
    """

    def __init__(self, code_list: str, unless: str | None = None, **kwargs: Any):
        super().__init__(64, **kwargs)
        self.code_list = code_list
        self.unless = unless

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        code = super()._deserialize(value, attr, data, **kwargs)
        allowed = [c for c in codes.codes(self.code_list) if not self._excluded(c)]
        if code not in allowed:
            raise ValidationError(
                f"Expected a code from {codes.system(self.code_list)}: {', '.join(allowed)}."
            )
        return code

    def _excluded(self, code: str) -> bool:
        return self.unless is not None and codes.prop(self.code_list, code, self.unless) is True


class NhsNumber(Text):
    """Ten digits (spaces allowed between groups) passing the Modulus 11 check."""

    def __init__(self, **kwargs: Any):
        super().__init__(12, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        number = super()._deserialize(value, attr, data, **kwargs).replace(" ", "")
        if not is_valid_nhs_number(number):
            raise ValidationError(
                "Expected a 10-digit NHS number with a valid Modulus 11 check digit."
            )
        return number


class StrictBoolean(fields.Boolean):
    """JSON true or false only; no "yes", 1 or "true"."""

    default_error_messages = {"invalid": "Expected true or false."}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if value is True or value is False:
            return value
        raise self.make_error("invalid")


class ZonedDateTime(fields.AwareDateTime):
    """An ISO 8601 date-time that must carry a zone (Z or ±hh:mm)."""

    default_error_messages = {
        "invalid": "Expected an ISO 8601 date-time with a zone, e.g. 2025-01-31T14:05:00Z.",
        "invalid_awareness": "Expected the date-time to carry a zone (Z or +hh:mm).",
    }

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if not isinstance(value, str):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


class IsoDate(fields.Date):
    """An ISO 8601 calendar date (YYYY-MM-DD)."""

    default_error_messages = {"invalid": "Expected an ISO 8601 date, YYYY-MM-DD."}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if not isinstance(value, str) or len(value) != 10:
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


def text_list(item: fields.Field, max_items: int, **kwargs: Any) -> fields.List:
    """A list field with a maximum length."""

    def check(values: list) -> None:
        if len(values) > max_items:
            raise ValidationError(f"Expected at most {max_items} items.")

    return fields.List(
        item,
        validate=check,
        error_messages={"invalid": "Expected a JSON array.", **_REQUIRED},
        **kwargs,
    )


def doc(description: str) -> dict:
    """Field metadata carrying an OpenAPI description."""
    return {"description": description}


class NativeSchema(Schema):
    """Base of the native schemas: plain messages, and no None or empty lists in output."""

    error_messages = {"type": "Expected a JSON object.", "unknown": "Unknown field."}

    @post_dump
    def _drop_empty(self, data: dict, **_: Any) -> dict:
        return {k: v for k, v in data.items() if v is not None and v != []}
