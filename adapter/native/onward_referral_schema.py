"""The native onward-referral request ⇄ `OnwardReferralRequest`: what a practitioner asks for."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from marshmallow import ValidationError, fields, post_load

from adapter.errors import InvalidInput, Issue
from adapter.native.fields import FHIR_ID, Code, NativeSchema, StrictBoolean, Text, doc
from adapter.native.issues import issues_from_messages

_OBJECT: dict[str, Any] = {
    "required": "This field is required.",
    "null": "This field may not be null.",
    "type": "Expected a JSON object.",
}


@dataclass(frozen=True)
class ReferredBy:
    """The practitioner making the onward referral."""

    name: str
    role: str | None = None


@dataclass(frozen=True)
class OnwardReferralRequest:
    """An onward referral as asked for: the pathway, the partner service and why."""

    pathway: str  # a code of ld-onward-referral
    to: str  # the partner's HealthcareService id
    referred_by: ReferredBy
    urgency: str = "routine"  # request-priority
    reason: str | None = None
    note: str | None = None
    lawful_basis: str | None = None  # ld-lawful-basis: sharing without consent, said explicitly
    identity_confirmed: bool = False  # the practitioner checked who this is despite warnings


class ReferredBySchema(NativeSchema):
    """Who makes the onward referral."""

    name = Text(100, required=True, metadata=doc("Practitioner's name"))
    role = Text(100, allow_none=True, metadata=doc("Role, e.g. L&D practitioner (RMN)"))

    @post_load
    def _make(self, data: dict, **_: Any) -> ReferredBy:
        return ReferredBy(**data)


class OnwardReferralSchema(NativeSchema):
    """An onward referral in the native API."""

    pathway = Code("ld-onward-referral", required=True, metadata=doc("Onward pathway"))
    to = Text(
        64,
        required=True,
        pattern=FHIR_ID,
        hint="Expected a HealthcareService id.",
        metadata=doc("The partner service: a HealthcareService id (GET /fhir/HealthcareService)"),
    )
    urgency = Code("request-priority", load_default="routine", metadata=doc("routine .. stat"))
    reason = Text(1000, allow_none=True, metadata=doc("Why the person is referred on"))
    note = Text(2000, allow_none=True, metadata=doc("Anything else the partner should know"))
    lawful_basis = Code(
        "ld-lawful-basis",
        allow_none=True,
        metadata=doc("Only to share without consent (safeguarding): the lawful basis relied on"),
    )
    identity_confirmed = StrictBoolean(
        load_default=False,
        metadata=doc(
            "true: the practitioner has checked who the person is; needed when the referral has "
            "identity warnings (a stored person matched by NHS number with different details)"
        ),
    )
    referred_by = fields.Nested(
        ReferredBySchema,
        required=True,
        error_messages=_OBJECT,
        metadata=doc("The practitioner making the referral (the partner's requester)"),
    )

    @post_load
    def _make(self, data: dict, **_: Any) -> OnwardReferralRequest:
        return OnwardReferralRequest(**data)


_SCHEMA = OnwardReferralSchema()


def load_onward_referral(payload: object) -> OnwardReferralRequest:
    """Check a native onward-referral payload; InvalidInput lists every problem."""
    if not isinstance(payload, dict):
        raise InvalidInput(Issue("Expected the onward referral as a JSON object.", code="invalid"))
    try:
        request = cast(OnwardReferralRequest, _SCHEMA.load(payload))
    except ValidationError as error:
        raise InvalidInput(issues_from_messages(error.messages)) from None
    return request


def dump_onward_referral(request: OnwardReferralRequest) -> dict:
    """The native JSON form of a request (None left out)."""
    return cast(dict, _SCHEMA.dump(request))
