"""The native referral JSON ⇄ `adapter.domain.Referral`: the one place native input is checked."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from marshmallow import Schema, ValidationError, fields, post_load, validates_schema

from adapter.domain import (
    Address,
    ConsentDecision,
    LocalIdentifier,
    Person,
    Referral,
    Referrer,
    YouthDetails,
)
from adapter.errors import InvalidInput, Issue
from adapter.native.fields import (
    FHIR_ID,
    ODS_CODE,
    PHONE,
    POSTCODE,
    Code,
    IsoDate,
    NativeSchema,
    NhsNumber,
    StrictBoolean,
    Text,
    ZonedDateTime,
    doc,
    text_list,
)
from adapter.native.issues import issues_from_messages
from adapter.native.rules import check_age, check_unique

ADDRESS_PARTS = ("lines", "city", "district", "postcode")
_REQUIRED: dict[str, Any] = {
    "required": "This field is required.",
    "null": "This field may not be null.",
}
_OBJECT: dict[str, Any] = {**_REQUIRED, "type": "Expected a JSON object."}


def _nested(schema: type[Schema], description: str, **kwargs: Any) -> fields.Nested:
    return fields.Nested(
        schema, error_messages=_OBJECT, metadata={"description": description}, **kwargs
    )


class LocalIdentifierSchema(NativeSchema):
    """A non-NHS identifier of the person."""

    type = Code("ld-local-identifier-type", required=True, metadata=doc("Identifier type code"))
    value = Text(64, required=True, metadata=doc("The identifier"))
    assigner = Text(
        100, allow_none=True, metadata=doc("ODS code or name of the issuing organisation")
    )

    @post_load
    def _make(self, data: dict, **_: Any) -> LocalIdentifier:
        return LocalIdentifier(**data)


class AddressSchema(NativeSchema):
    """A postal address; at least one part."""

    lines = text_list(Text(100), 5, metadata=doc("Street lines"))
    city = Text(100, allow_none=True, metadata=doc("Town or city"))
    district = Text(100, allow_none=True, metadata=doc("County or district"))
    postcode = Text(
        10,
        allow_none=True,
        pattern=POSTCODE,
        hint="Expected a UK postcode.",
        metadata=doc("Postcode"),
    )

    @validates_schema(skip_on_field_errors=False, pass_original=True)
    def _not_empty(self, data: dict, original: object, **_: Any) -> None:
        if isinstance(original, dict) and not any(original.get(k) for k in ADDRESS_PARTS):
            raise ValidationError("Expected at least one of lines, city, district, postcode.")

    @post_load
    def _make(self, data: dict, **_: Any) -> Address:
        return Address(**{**data, "lines": tuple(data.get("lines") or ())})


class PersonSchema(NativeSchema):
    """The person referred."""

    family_name = Text(100, allow_none=True, metadata=doc("Family name"))
    given_names = text_list(Text(100), 5, metadata=doc("Given names, in order"))
    nhs_number = NhsNumber(allow_none=True, metadata=doc("NHS number, 10 digits, Modulus 11"))
    local_identifiers = text_list(
        _nested(LocalIdentifierSchema, "A local identifier"),
        10,
        metadata=doc("Custody record number, PNC id, court case number, local patient id"),
    )
    birth_date = IsoDate(allow_none=True, metadata=doc("Date of birth, YYYY-MM-DD"))
    gender = Code(
        "administrative-gender", allow_none=True, metadata=doc("FHIR administrative gender")
    )
    ethnic_category = Code(
        "UKCore-EthnicCategoryEngland",
        allow_none=True,
        metadata=doc("NHS DD Ethnic Category"),
    )
    address = _nested(AddressSchema, "Home address", allow_none=True)
    registered_gp_ods = Text(
        10,
        allow_none=True,
        pattern=ODS_CODE,
        hint="Expected an ODS code: 3-10 upper-case letters and digits.",
        metadata=doc("ODS code of the registered GP practice"),
    )

    @validates_schema(skip_on_field_errors=False, pass_original=True)
    def _identifiable(self, data: dict, original: dict, **_: Any) -> None:
        # Judge presence on what was sent, so a malformed value gets one issue, not two.
        if not isinstance(original, dict):
            return  # Already reported as not an object.
        errors: dict[str, list[str]] = {}
        if original.get("nhs_number") is None and not original.get("local_identifiers"):
            errors["nhs_number"] = ["Expected an NHS number or at least one local identifier."]
        if original.get("family_name") is None and original.get("birth_date") is None:
            errors["family_name"] = ["Expected a family name or a birth date."]
        if errors:
            raise ValidationError(errors)

    @post_load
    def _make(self, data: dict, **_: Any) -> Person:
        data["given_names"] = tuple(data.get("given_names") or ())
        data["local_identifiers"] = tuple(data.get("local_identifiers") or ())
        return Person(**data)


class ReferrerSchema(NativeSchema):
    """Who made the referral; at least one field."""

    name = Text(100, allow_none=True, metadata=doc("Referrer's name"))
    role = Text(100, allow_none=True, metadata=doc("Referrer's role, e.g. Custody sergeant"))
    organisation_ods = Text(
        10,
        allow_none=True,
        pattern=ODS_CODE,
        hint="Expected an ODS code: 3-10 upper-case letters and digits.",
        metadata=doc("ODS code of the referrer's organisation"),
    )
    organisation_name = Text(200, allow_none=True, metadata=doc("Referrer's organisation"))
    phone = Text(
        32,
        allow_none=True,
        pattern=PHONE,
        hint="Expected a telephone number.",
        metadata=doc("Phone"),
    )

    @validates_schema(skip_on_field_errors=False, pass_original=True)
    def _not_empty(self, data: dict, original: object, **_: Any) -> None:
        if isinstance(original, dict) and not any(original.get(k) for k in self.fields):
            raise ValidationError("Expected at least one referrer detail.")

    @post_load
    def _make(self, data: dict, **_: Any) -> Referrer:
        return Referrer(**data)


class ConsentSchema(NativeSchema):
    """One consent decision."""

    scope = Code("ld-consent-scope", required=True, metadata=doc("What the decision is about"))
    decision = Code(
        "ld-consent-decision",
        unless="recorded-by-adapter",
        required=True,
        metadata=doc("agreed, declined, limited"),
    )
    capacity = Code("ld-mental-capacity", required=True, metadata=doc("Capacity for the decision"))
    recorded_by = Text(100, required=True, metadata=doc("Practitioner who recorded it"))
    recorded_at = ZonedDateTime(
        required=True, error_messages=_REQUIRED, metadata=doc("When, ISO 8601 with zone")
    )
    recorded_by_role = Text(100, allow_none=True, metadata=doc("Recorder's role"))
    lawful_basis = Code(
        "ld-lawful-basis",
        allow_none=True,
        metadata=doc("Lawful basis for sharing without consent"),
    )

    @validates_schema(skip_on_field_errors=False)
    def _limited_scope(self, data: dict, **_: Any) -> None:
        if data.get("decision") == "limited" and data.get("scope") not in (
            None,
            "share-criminal-justice",
        ):
            raise ValidationError(
                "Expected 'limited' only for scope share-criminal-justice.", "decision"
            )

    @post_load
    def _make(self, data: dict, **_: Any) -> ConsentDecision:
        return ConsentDecision(**data)


class YouthSchema(NativeSchema):
    """For a person under 18 at the time of referral."""

    appropriate_adult_present = StrictBoolean(
        required=True,
        error_messages=_REQUIRED,
        metadata=doc("Is an appropriate adult present"),
    )
    appropriate_adult_name = Text(100, allow_none=True, metadata=doc("Appropriate adult's name"))
    appropriate_adult_relationship = Text(
        100, allow_none=True, metadata=doc("e.g. parent, social worker, volunteer")
    )
    youth_offending_team = Text(200, allow_none=True, metadata=doc("Youth offending team"))

    @post_load
    def _make(self, data: dict, **_: Any) -> YouthDetails:
        return YouthDetails(**data)


class ReferralSchema(NativeSchema):
    """An L&D referral in the native API."""

    local_id = Text(64, required=True, metadata=doc("The sending system's referral id"))
    received_at = ZonedDateTime(
        required=True,
        error_messages=_REQUIRED,
        metadata=doc("When received, ISO 8601 with zone"),
    )
    source = Code("nhsdd-source-of-referral-mh", required=True, metadata=doc("Source of referral"))
    setting = Code("ld-referral-setting", required=True, metadata=doc("Referral setting"))
    site = Text(
        64,
        required=True,
        pattern=FHIR_ID,
        hint="Expected a Location id: letters, digits, '-' and '.'.",
        metadata=doc("Location id of the custody suite or court"),
    )
    person = _nested(PersonSchema, "The person referred", required=True)
    urgency = Code("request-priority", load_default="routine", metadata=doc("routine .. stat"))
    referrer = _nested(ReferrerSchema, "Who referred", allow_none=True)
    concerns = text_list(
        Code("ld-vulnerability"),
        30,
        metadata=doc("Vulnerability categories, each at most once"),
    )
    consents = text_list(
        _nested(ConsentSchema, "A consent decision"), 10, metadata=doc("Consent decisions")
    )
    youth = _nested(YouthSchema, "Youth details: only for a person under 18", allow_none=True)
    notes = text_list(Text(4000), 20, metadata=doc("Free-text notes"))
    status = Code("ld-pathway-status", load_default="received", metadata=doc("Pathway status"))

    @validates_schema(skip_on_field_errors=False)
    def _cross_checks(self, data: dict, **_: Any) -> None:
        errors: dict[str, Any] = {}
        check_unique(data.get("concerns") or [], "concerns", errors)
        scopes = [c.scope for c in data.get("consents") or () if isinstance(c, ConsentDecision)]
        check_unique(scopes, "consents", errors, suffix="scope")
        person, received = data.get("person"), data.get("received_at")
        if isinstance(person, Person) and isinstance(received, datetime):
            check_age(person.birth_date, received.date(), data.get("youth"), errors)
        if errors:
            raise ValidationError(errors)

    @post_load
    def _make(self, data: dict, **_: Any) -> Referral:
        for key in ("concerns", "consents", "notes"):
            data[key] = tuple(data.get(key) or ())
        return Referral(**data)


_SCHEMA = ReferralSchema()


def load_referral(payload: object) -> Referral:
    """Check a native referral payload and build the Referral; InvalidInput lists every problem."""
    if not isinstance(payload, dict):
        raise InvalidInput(Issue("Expected the referral as a JSON object.", code="invalid"))
    try:
        referral = _SCHEMA.load(payload)
    except ValidationError as error:
        raise InvalidInput(issues_from_messages(error.messages)) from None
    return cast(Referral, referral)


def dump_referral(referral: Referral) -> dict:
    """The native JSON form of a Referral (None and empty lists left out)."""
    return _SCHEMA.dump(referral)
