"""Property tests: any valid Referral survives native JSON and FHIR round trips unchanged."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapter.conformance import validate
from adapter.domain import (
    Address,
    ConsentDecision,
    LocalIdentifier,
    Person,
    Referral,
    ReferralResourceIds,
    Referrer,
    YouthDetails,
    is_valid_nhs_number,
)
from adapter.mapping import codes, referral_bundle, referral_from_fhir, referral_to_fhir
from adapter.native.referral_schema import dump_referral, load_referral

ZONES = [UTC, timezone(timedelta(hours=1)), timezone(timedelta(hours=-5, minutes=-30))]
_CHARS = st.characters(categories=("L", "N"), include_characters=" '-.&/()")


def text(max_size: int = 40) -> st.SearchStrategy[str]:
    """Non-blank text as the schema keeps it: trimmed, no control characters."""
    return st.text(_CHARS, min_size=1, max_size=max_size).map(str.strip).filter(bool)


def code(name: str) -> st.SearchStrategy[str]:
    return st.sampled_from(codes.codes(name))


def optional(strategy: st.SearchStrategy) -> st.SearchStrategy:
    return st.none() | strategy


nhs_numbers = (
    st.integers(0, 999_999_999)
    .flatmap(lambda n: st.sampled_from([f"{n:09d}{d}" for d in range(10)]))
    .filter(is_valid_nhs_number)
)
ods_codes = st.from_regex(r"[A-Z0-9]{3,10}", fullmatch=True)
zoned = st.datetimes(datetime(2000, 1, 1), datetime(2035, 12, 31), timezones=st.sampled_from(ZONES))

local_identifiers = st.builds(
    LocalIdentifier,
    type=code("ld-local-identifier-type"),
    value=text(64),
    assigner=optional(text(100) | ods_codes),
)
addresses = st.builds(
    Address,
    lines=st.lists(text(), max_size=3).map(tuple),
    city=optional(text()),
    district=optional(text()),
    postcode=optional(st.from_regex(r"[A-Z]{1,2}[0-9]{1,2} [0-9][A-Z]{2}", fullmatch=True)),
).filter(lambda a: a != Address())
referrers = st.builds(
    Referrer,
    name=optional(text()),
    role=optional(text()),
    organisation_ods=optional(ods_codes),
    organisation_name=optional(text()),
    phone=optional(st.from_regex(r"\+?[0-9][0-9 ]{2,14}[0-9]", fullmatch=True)),
).filter(lambda r: r != Referrer())


@st.composite
def consent_lists(draw: st.DrawFn) -> tuple[ConsentDecision, ...]:
    scopes = draw(st.lists(code("ld-consent-scope"), unique=True, max_size=4))
    decisions = []
    for scope in scopes:
        # A decision only the adapter records (on a lawful basis) is never native input.
        choices = tuple(
            c
            for c in codes.codes("ld-consent-decision")
            if not codes.prop("ld-consent-decision", c, "recorded-by-adapter")
        )
        if scope != "share-criminal-justice":
            choices = tuple(c for c in choices if c != "limited")
        decisions.append(
            ConsentDecision(
                scope=scope,
                decision=draw(st.sampled_from(choices)),
                capacity=draw(code("ld-mental-capacity")),
                recorded_by=draw(text()),
                recorded_at=draw(zoned),
                recorded_by_role=draw(optional(text())),
                lawful_basis=draw(optional(code("ld-lawful-basis"))),
            )
        )
    return tuple(decisions)


@st.composite
def people(draw: st.DrawFn, received: date) -> Person:
    nhs_number = draw(optional(nhs_numbers))
    locals_ = draw(st.lists(local_identifiers, min_size=0 if nhs_number else 1, max_size=3))
    birth = draw(optional(st.dates(date(1920, 1, 1), received)))
    family = draw(text() if birth is None else optional(text()))
    return Person(
        family_name=family,
        given_names=tuple(draw(st.lists(text(), max_size=3))),
        nhs_number=nhs_number,
        local_identifiers=tuple(locals_),
        birth_date=birth,
        gender=draw(optional(code("administrative-gender"))),
        ethnic_category=draw(optional(code("UKCore-EthnicCategoryEngland"))),
        address=draw(optional(addresses)),
        registered_gp_ods=draw(optional(ods_codes)),
    )


def _under_18(birth: date | None, on: date) -> bool:
    if birth is None:
        return False
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day)) < 18


@st.composite
def referrals(draw: st.DrawFn) -> Referral:
    received = draw(zoned)
    person = draw(people(received.date()))
    youth = None
    if _under_18(person.birth_date, received.date()):
        youth = draw(
            optional(
                st.builds(
                    YouthDetails,
                    appropriate_adult_present=st.booleans(),
                    appropriate_adult_name=optional(text()),
                    appropriate_adult_relationship=optional(text()),
                    youth_offending_team=optional(text()),
                )
            )
        )
    return Referral(
        local_id=draw(text(64)),
        received_at=received,
        source=draw(code("nhsdd-source-of-referral-mh")),
        setting=draw(code("ld-referral-setting")),
        site=draw(st.from_regex(r"[a-z0-9][a-z0-9\-.]{0,40}", fullmatch=True)),
        person=person,
        urgency=draw(code("request-priority")),
        referrer=draw(optional(referrers)),
        concerns=tuple(draw(st.lists(code("ld-vulnerability"), unique=True, max_size=6))),
        consents=draw(consent_lists()),
        youth=youth,
        notes=tuple(draw(st.lists(text(200), max_size=3))),
        status=draw(code("ld-pathway-status")),
    )


def _ids(referral: Referral) -> ReferralResourceIds:
    return ReferralResourceIds(
        "p-1", "sr-1", "e-1", [f"c-{i}" for i in range(len(referral.consents))], "o-1"
    )


SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(referrals())
def test_native_json_round_trip(referral: Referral) -> None:
    assert load_referral(dump_referral(referral)) == referral


@SETTINGS
@given(referrals())
def test_fhir_round_trip(referral: Referral) -> None:
    assert referral_from_fhir(referral_to_fhir(referral, _ids(referral))) == referral


@SETTINGS
@given(referrals())
def test_fhir_output_has_no_empty_elements(referral: Referral) -> None:
    bundle = referral_bundle(referral_to_fhir(referral, _ids(referral)), "http://x/fhir")
    stack: list[object] = [bundle]
    while stack:
        value = stack.pop()
        assert value not in (None, "", [], {})
        if isinstance(value, dict):
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)


@SETTINGS
@given(referrals())
def test_fhir_output_conforms_to_our_profiles(referral: Referral) -> None:
    resources = referral_to_fhir(
        referral, _ids(referral), performer="HealthcareService/hs-1", provider="Organization/o-2"
    )
    errors = [
        i for i in validate(referral_bundle(resources, "http://x/fhir")) if i.severity == "error"
    ]
    assert errors == []
