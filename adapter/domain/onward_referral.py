"""An onward referral as plain data: L&D passing the person on to a partner service."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class OnwardReferral:
    """What the practitioner asked for; the partner and the rules decide what is sent."""

    pathway: str  # a code of ld-onward-referral, e.g. gp, crisis-team, home-area-ld
    partner_service: str  # the partner's HealthcareService id
    authored_on: datetime
    referred_by: str  # the practitioner's name
    referred_by_role: str | None = None
    reason: str | None = None  # free text, written for this partner
    urgency: str = "routine"  # routine | urgent | asap | stat (FHIR request priority)
    note: str | None = None
    lawful_basis: str | None = None  # ld-lawful-basis code: sharing without consent, stated


@dataclass(frozen=True)
class OnwardReferralIds:
    """The ids of the FHIR resources one onward referral makes and points at."""

    onward_referral: str  # the record's id; also the ServiceRequest's business identifier
    service_request: str
    task: str
    patient: str
    referral: str  # the L&D referral ServiceRequest this follows from
    consents: tuple[str, ...]  # the Consents relied on (stored, or made for a lawful basis)
