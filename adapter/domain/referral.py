"""The L&D referral as plain data: what a custody suite or court sends to the L&D team.

No Flask, SQLAlchemy or FHIR here. Codes are the native API's codes; their meanings, and their
FHIR equivalents, live in the CodeSystems and ConceptMaps under `mappings/`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime


@dataclass(frozen=True)
class LocalIdentifier:
    """A non-NHS identifier for the person, e.g. a custody record number."""

    type: str  # e.g. custody-record-number, pnc-id, court-case-number, local-patient-id
    value: str
    assigner: str | None = None  # ODS code or name of the organisation that issued it


@dataclass(frozen=True)
class Address:
    """A postal address."""

    lines: tuple[str, ...] = ()
    city: str | None = None
    district: str | None = None
    postcode: str | None = None


@dataclass(frozen=True)
class Person:
    """The person referred."""

    family_name: str | None = None
    given_names: tuple[str, ...] = ()
    nhs_number: str | None = None  # ten digits, Modulus 11 checked at the edge
    local_identifiers: tuple[LocalIdentifier, ...] = ()
    birth_date: date | None = None
    gender: str | None = None  # male | female | other | unknown (FHIR administrative gender)
    ethnic_category: str | None = None  # NHS Data Dictionary Ethnic Category: A..S, Z, 99
    address: Address | None = None
    registered_gp_ods: str | None = None  # ODS code of the registered GP practice


@dataclass(frozen=True)
class Referrer:
    """Who made the referral."""

    name: str | None = None
    role: str | None = None  # free text, e.g. "Custody sergeant"
    organisation_ods: str | None = None
    organisation_name: str | None = None
    phone: str | None = None


@dataclass(frozen=True)
class ConsentDecision:
    """One consent decision; screening and each kind of sharing are separate decisions."""

    scope: str  # screening | share-health | share-criminal-justice | out-of-area-referral
    decision: str  # agreed | declined | limited (limited: share-criminal-justice only)
    capacity: str  # has-capacity | lacks-capacity | not-assessed
    recorded_by: str  # practitioner name
    recorded_at: datetime
    recorded_by_role: str | None = None
    lawful_basis: str | None = None  # e.g. safeguarding: sharing without consent, stated explicitly


@dataclass(frozen=True)
class YouthDetails:
    """For a person under 18: the appropriate adult and youth offending team liaison."""

    appropriate_adult_present: bool | None = None
    appropriate_adult_name: str | None = None
    appropriate_adult_relationship: str | None = None  # e.g. parent, social worker, volunteer
    youth_offending_team: str | None = None


@dataclass(frozen=True)
class Referral:
    """An L&D referral as received."""

    local_id: str  # the sending system's referral id
    received_at: datetime
    source: str  # referral source code (MHSDS source of referral, e.g. E1 police)
    # custody-suite|voluntary-attendance|magistrates-court|youth-court|crown-court|community
    setting: str
    site: str  # the Location id of the custody suite / court in the service directory
    person: Person
    urgency: str = "routine"  # routine | urgent | asap | stat (FHIR request priority)
    referrer: Referrer | None = None
    concerns: tuple[str, ...] = ()  # vulnerability codes, see mappings/
    consents: tuple[ConsentDecision, ...] = ()
    youth: YouthDetails | None = None
    notes: tuple[str, ...] = ()
    status: str = (
        "received"  # pathway status: received (screening, assessed, referred-on, closed later)
    )


@dataclass
class ReferralResourceIds:
    """The ids of the FHIR resources made from one referral."""

    patient: str
    service_request: str
    encounter: str
    consents: list[str] = field(default_factory=list)
    referrer_organization: str | None = None
