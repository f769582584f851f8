"""Onward referral scenarios for tests: stored referral resources, a partner, and the message.

Each scenario takes a referral's golden FHIR bundle (fixtures/fhir/referrals/) as what the store
holds, a test partner of one recipient type (fixtures/messages/partners.json), and goes through the
same steps the service layer does: consent check, ServiceRequest, message.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

from adapter.domain import OnwardReferral, OnwardReferralIds
from adapter.exchange.consent_check import ConsentBasis, check_consent
from adapter.exchange.disclosure import rule_for
from adapter.exchange.message import Sender, SharedRecord, onward_referral_message
from adapter.mapping.onward_referral import (
    lawful_basis_consent,
    service_request_from_onward_referral,
)
from adapter.mapping.service_request import concerns_from

ROOT = Path(__file__).resolve().parents[2]
REFERRALS = ROOT / "fixtures" / "fhir" / "referrals"
ASSESSMENTS = ROOT / "fixtures" / "fhir" / "assessments"
PARTNERS = ROOT / "fixtures" / "messages" / "partners.json"
AT = datetime(2025, 3, 14, 12, 30, tzinfo=UTC)
MESSAGE_ID = "5d0c7f4e-1b7a-4a53-9a0e-0c1f3e9c2a00"
CANCELLATION_ID = "5d0c7f4e-1b7a-4a53-9a0e-0c1f3e9c2a99"
LAWFUL_BASIS_CONSENT = "consent-lawful-basis"
SENDER = Sender(
    organization=json.loads(
        (ROOT / "mappings/service-directory/Organization-mpft.json").read_text(encoding="utf-8")
    ),
    source_endpoint="https://ld-adapter.example.nhs.uk/fhir",
    fhir_base_url="http://127.0.0.1:8080/fhir",
)


@dataclass(frozen=True)
class Scenario:
    """One onward referral: which referral, to which kind of partner, on what basis."""

    name: str
    referral: str  # a golden referral bundle's stem
    recipient_type: str
    lawful_basis: str | None = None
    screen: str | None = None  # an assessment fixture whose screen the store holds


SCENARIOS = (
    Scenario("health-gp", "adult-custody-telford", "health"),
    Scenario(
        "home-area-ld",
        "voluntary-attendance-hereford-out-of-area",
        "home-area-ld",
        screen="adult-custody-telford",
    ),
    Scenario(
        "safeguarding-lawful-basis",
        "declines-criminal-justice-sharing-worcester",
        "safeguarding",
        lawful_basis="safeguarding-child",
    ),
    Scenario("community-support-housing", "adult-custody-telford", "community-support"),
    Scenario("criminal-justice-agreed", "adult-custody-telford", "criminal-justice"),
    Scenario("criminal-justice-limited", "court-cannock-magistrates", "criminal-justice"),
)


def partner(recipient_type: str) -> SimpleNamespace:
    """The test partner of a recipient type, shaped like adapter.exchange.partners.Partner."""
    for row in json.loads(PARTNERS.read_text(encoding="utf-8"))["partners"]:
        if row["recipient_type"] == recipient_type:
            return SimpleNamespace(
                service=row["service"],
                organization=row["organization"],
                endpoint=row["endpoint"],
                pathway=row["pathway"],
            )
    raise KeyError(recipient_type)


def stored(referral: str) -> list[dict]:
    """The resources the store holds for a referral (its golden bundle)."""
    bundle = json.loads((REFERRALS / f"{referral}.bundle.json").read_text(encoding="utf-8"))
    return [entry["resource"] for entry in bundle["entry"]]


def of_type(resources: list[dict], resource_type: str) -> list[dict]:
    """The resources of one type."""
    return [r for r in resources if r["resourceType"] == resource_type]


def screen(name: str) -> tuple[dict, dict]:
    """The QuestionnaireResponse and Encounter of an assessment fixture."""
    bundle = json.loads((ASSESSMENTS / f"{name}.json").read_text(encoding="utf-8"))
    resources = [entry["resource"] for entry in bundle["entry"]]
    return of_type(resources, "QuestionnaireResponse")[0], of_type(resources, "Encounter")[0]


@dataclass(frozen=True)
class Built:
    """What one scenario produced."""

    basis: ConsentBasis
    service_request: dict
    consents: list[dict]
    message: dict


def build(scenario: Scenario) -> Built:
    """Consent check, ServiceRequest and message, as the service layer would do them."""
    resources = stored(scenario.referral)
    the_partner = partner(scenario.recipient_type)
    rule = rule_for(scenario.recipient_type)
    basis = check_consent(rule, of_type(resources, "Consent"), scenario.lawful_basis)
    patient = of_type(resources, "Patient")[0]
    relied = [c for c in of_type(resources, "Consent") if c["id"] in basis.consent_ids]
    if basis.lawful_basis is not None:
        relied.append(
            lawful_basis_consent(
                LAWFUL_BASIS_CONSENT,
                patient["id"],
                scope=rule.consent_scope,
                lawful_basis=basis.lawful_basis,
                capacity=basis.capacity,
                recorded_by="Alex Morgan",
                recorded_by_role="L&D practitioner (RMN)",
                at=AT,
            )
        )
    referral = of_type(resources, "ServiceRequest")[0]
    onward = OnwardReferral(
        pathway=the_partner.pathway,
        partner_service=the_partner.service["id"],
        authored_on=AT,
        referred_by="Alex Morgan",
        referred_by_role="L&D practitioner (RMN)",
        reason="Low mood and no settled address; agreed to this referral.",
        urgency="urgent",
        note="Best reached by phone in the afternoon.",
        lawful_basis=scenario.lawful_basis,
    )
    ids = OnwardReferralIds(
        onward_referral="onward-1",
        service_request="onward-service-request-1",
        task="onward-task-1",
        patient=patient["id"],
        referral=referral["id"],
        consents=tuple(c["id"] for c in relied),
    )
    # Every finding the referral holds (the service layer passes allowed_findings() of them):
    # the message must cut them to the partner's rule itself.
    findings = concerns_from(referral.get("reasonCode"))
    request = service_request_from_onward_referral(
        onward, ids, findings=findings, organization=SENDER.organization
    )
    questionnaire, encounter = screen(scenario.screen) if scenario.screen else (None, None)
    record = SharedRecord(patient, relied, encounter, questionnaire)
    message = onward_referral_message(
        MESSAGE_ID, AT, request, record, basis.disclosure, the_partner, SENDER
    )
    return Built(basis, request, relied, message)
