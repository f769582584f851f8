"""Everything the adapter emits, built from every native fixture the way the service layer does.

Referrals and screens through their mappings (each resource and the Bundle served), a referral
after each completed screen (findings added, consent answers as new Consents), every onward
referral scenario (its ServiceRequest, Task, Consents and message), the cancellation of each, the
GP referral's Task at each delivery status, the response message for every answer, the justice
report's DocumentReference at each disclosure, and the service directory. Each item is
(label, resource).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from adapter.conformance.full import questionnaires
from adapter.directory import directory_resources, service_at_site, site_service
from adapter.documents import letterhead_for_service
from adapter.domain import OnwardReferralIds, Referral, ReferralResourceIds
from adapter.domain.assessment import AssessmentResourceIds
from adapter.domain.pathway import stage_after_assessment
from adapter.exchange.disclosure import minimise, rule_for
from adapter.exchange.message import cancellation_message
from adapter.exchange.response import Answer, response_message
from adapter.mapping import referral_bundle, referral_to_fhir
from adapter.mapping.assessment import assessment_bundle, assessment_to_fhir
from adapter.mapping.codes import codes
from adapter.mapping.findings import screening_findings
from adapter.mapping.inbound_referral import Sender, referral_from_message
from adapter.mapping.justice_report import (
    JusticeReport,
    SupportArranged,
    justice_report_reference,
)
from adapter.mapping.message_bundle import MessageBundle
from adapter.mapping.onward_referral import (
    revoked,
    task_for_onward_referral,
    task_with_delivery_status,
)
from adapter.mapping.referral import ReferralResources
from adapter.mapping.screen_consents import consents_after_screen
from adapter.native.assessment_schema import load_assessment
from adapter.native.referral_schema import load_referral
from adapter.services.justice_reports import CRIMINAL_JUSTICE, PDF, render_justice_report
from tests.support.onward import AT, CANCELLATION_ID, SCENARIOS, SENDER, Scenario, build, partner

ROOT = Path(__file__).resolve().parents[2]
NATIVE = ROOT / "fixtures" / "native"
BASE_URL = "http://127.0.0.1:8080/fhir"
RESPONSE_ID = "7e1d2c3b-4a59-4b6c-8d7e-9f0a1b2c3d4e"
ANSWERED_AT = datetime(2025, 3, 20, 9, 0, tzinfo=UTC)
INBOUND_SENDER = Sender(ods_code="RRE", name="Midlands Partnership University NHS FT", source="E5")
REJECTED_REASON = "22"  # a dos-rejected-reasons-bars code, as tests/unit/test_response_message.py


def _native(folder: str) -> list[Path]:
    return sorted((NATIVE / folder).glob("*.json"))


def referrals() -> Iterator[tuple[str, dict]]:
    """Each native referral's resources and the Bundle that serves them."""
    for path in _native("referrals"):
        referral = load_referral(json.loads(path.read_text(encoding="utf-8")))
        yield from _bundle_items(f"referral {path.stem}", _referral_bundle(referral))


def screened_referrals() -> Iterator[tuple[str, dict]]:
    """A referral after each completed screen, as services/assessments.py moves it on.

    The screen's findings join the reasons and its consent answers become new Consent decisions.
    """
    path = NATIVE / "referrals" / "adult-custody-telford.json"
    referral = load_referral(json.loads(path.read_text(encoding="utf-8")))
    for screen_path in _native("assessments"):
        screen = load_assessment(json.loads(screen_path.read_text(encoding="utf-8")))
        found = screening_findings(screen, questionnaires())
        screened = replace(
            referral,
            status=stage_after_assessment(referral.status, screen.kind, screen.status),
            concerns=tuple(dict.fromkeys((*referral.concerns, *found))),
            consents=consents_after_screen(referral.consents, screen),
        )
        label = f"referral after screen {screen_path.stem}"
        yield from _bundle_items(label, _referral_bundle(screened))


def _referral_bundle(referral: Referral) -> dict:
    """The FHIR Bundle of a native referral, with the fixed ids the golden tests use."""
    return referral_bundle(_referral_resources(referral), BASE_URL)


def _referral_resources(referral: Referral) -> ReferralResources:
    """A native referral's resources, with the fixed ids the golden tests use."""
    ids = ReferralResourceIds(
        patient="patient-1",
        service_request="service-request-1",
        encounter="encounter-1",
        consents=[f"consent-{n}" for n in range(1, len(referral.consents) + 1)],
        referrer_organization="organization-1",
    )
    service = site_service(directory_resources(), referral.site)
    return referral_to_fhir(referral, ids, performer=service.performer, provider=service.provider)


def assessments() -> Iterator[tuple[str, dict]]:
    """Each native screen's QuestionnaireResponse, Encounter and Flags, and their Bundle."""
    for path in _native("assessments"):
        assessment = load_assessment(json.loads(path.read_text(encoding="utf-8")))
        ids = AssessmentResourceIds(
            "questionnaire-response-1",
            "encounter-1",
            [f"flag-{n}" for n in range(1, len(assessment.risks) + 1)],
        )
        resources = assessment_to_fhir(
            assessment,
            ids,
            patient="patient-1",
            service_request="service-request-1",
            questionnaire_index=questionnaires(),
        )
        yield from _bundle_items(f"screen {path.stem}", assessment_bundle(resources, BASE_URL))


def onward() -> Iterator[tuple[str, dict]]:
    """Per recipient type: the onward ServiceRequest, its Task, message and cancellation."""
    for scenario in SCENARIOS:
        built = build(scenario)
        label = f"onward {scenario.name}"
        yield f"{label} ServiceRequest", built.service_request
        yield f"{label} Task", _task(scenario, built.service_request)
        for consent in built.consents:
            yield f"{label} Consent/{consent['id']}", consent
        yield from _bundle_items(f"{label} message", built.message)
        cancellation = cancellation_message(
            CANCELLATION_ID,
            AT,
            revoked(built.service_request),
            built.message,
            partner(scenario.recipient_type),
            SENDER,
        )
        yield from _bundle_items(f"{label} cancellation", cancellation)


def gp_task_after_routing() -> Iterator[tuple[str, dict]]:
    """The GP onward referral's Task at each delivery status (GP Send Document's R4 side).

    The practice's Task moves as the outbox delivers (queued, retrying, sent, dead-letter) and as
    its ITK3 acks arrive (delivered, filed, failed with the ITK3 reason), as services/gp_acks.py
    moves it; the STU3 message itself is checked with fhir.resources.STU3 elsewhere.
    """
    scenario = next(s for s in SCENARIOS if s.name == "health-gp")
    task = _task(scenario, build(scenario).service_request)
    for status in codes("ld-delivery-status"):
        moved = task_with_delivery_status(task, status, ANSWERED_AT)
        if status == "failed":
            moved["statusReason"] = {"text": "30002 Patient not known here"}
        yield f"onward health-gp Task {status}", moved


def responses() -> Iterator[tuple[str, dict]]:
    """The response message for every answer a partner-facing L&D service can give."""
    received = build(next(s for s in SCENARIOS if s.recipient_type == "home-area-ld")).message
    referrer = partner("home-area-ld")
    for code in codes("ld-referral-outcome"):
        reason = REJECTED_REASON if code == "rejected" else None
        answer = Answer(code=code, reason=reason, at=ANSWERED_AT, task_id="answer-task-1")
        message = response_message(
            RESPONSE_ID, answer, received, referrer, SENDER, "https://them.example/fhir"
        )
        yield from _bundle_items(f"response {code}", message)


def received() -> Iterator[tuple[str, dict]]:
    """Referral messages received from partners (each of ours, a BaRS one) as stored referrals."""
    messages = [(s.name, build(s).message) for s in SCENARIOS]
    bars = ROOT.parent / "shared" / "reference" / "bars" / "REFREQ07-Referral-GP-to-OC.json"
    if bars.is_file():
        messages.append(("bars REFREQ07", json.loads(bars.read_text(encoding="utf-8"))))
    for name, bundle in messages:
        message = MessageBundle(bundle)
        request = message.focus(message.of_type("MessageHeader")[0], "ServiceRequest")
        site = "custody-birmingham"
        received = referral_from_message(message, request, INBOUND_SENDER, site, ANSWERED_AT)
        yield from _bundle_items(f"received {name}", _referral_bundle(received.referral))


def justice_reports() -> Iterator[tuple[str, dict]]:
    """The DocumentReference kept for a justice report (PDF), at each disclosure the rules allow.

    As services/justice_reports.py builds it: the stored Patient minimised to the disclosure, the
    referral's concerns cut to it, the letterhead of the service at the referral's site.
    """
    path = NATIVE / "referrals" / "adult-custody-telford.json"
    referral = load_referral(json.loads(path.read_text(encoding="utf-8")))
    patient = _referral_resources(referral).patient
    service = service_at_site(directory_resources(), referral.site) or {}
    for disclosure in rule_for(CRIMINAL_JUSTICE).disclosures.values():
        if disclosure.report is None:
            continue
        report = JusticeReport(
            referral_id="referral-1",
            patient="Patient/patient-1",
            service_request="ServiceRequest/service-request-1",
            consent="Consent/consent-1",
            disclosure=disclosure.name,
            scope_summary=disclosure.report.summary,
            consent_recorded_at=ANSWERED_AT,
            recipient="court",
            letterhead=letterhead_for_service(directory_resources(), service["id"]),
            author=service["providedBy"]["reference"],
            person=minimise(patient, disclosure) or {},
            referred_on=referral.received_at.date(),
            seen_at="Telford police custody suite",
            needs=disclosure.allowed_findings(referral.concerns),
            support=(SupportArranged("gp", "Example Medical Practice", ANSWERED_AT.date()),),
            produced_at=ANSWERED_AT,
        )
        rendition = render_justice_report(report, PDF)
        reference = justice_report_reference(report, rendition, "justice-report-1")
        yield f"justice report ({disclosure.name}) DocumentReference", reference


def directory() -> Iterator[tuple[str, dict]]:
    """The service directory the adapter serves (Organizations, Locations, HealthcareServices)."""
    for resource in directory_resources():
        yield f"directory {resource['resourceType']}/{resource['id']}", resource


def everything() -> list[tuple[str, dict]]:
    """Every item above, in a stable order."""
    return [
        *referrals(),
        *assessments(),
        *screened_referrals(),
        *onward(),
        *gp_task_after_routing(),
        *responses(),
        *received(),
        *justice_reports(),
        *directory(),
    ]


def _bundle_items(label: str, bundle: dict) -> Iterator[tuple[str, dict]]:
    """The Bundle, then each entry's resource on its own."""
    yield f"{label} Bundle", bundle
    for entry in bundle.get("entry", ()):
        resource = entry["resource"]
        yield f"{label} {resource['resourceType']}/{resource.get('id')}", resource


def _task(scenario: Scenario, service_request: dict) -> dict:
    ids = _ids(service_request)
    return task_for_onward_referral(
        ids,
        organization=SENDER.organization,
        partner_organization=partner(scenario.recipient_type).organization,
        at=AT,
    )


def _ids(service_request: dict) -> OnwardReferralIds:
    """The OnwardReferralIds the onward scenarios use (tests/support/onward.py)."""
    return OnwardReferralIds(
        onward_referral="onward-1",
        service_request=service_request["id"],
        task="onward-task-1",
        patient=service_request["subject"]["reference"].split("/")[-1],
        referral="service-request-1",
        consents=(),
    )
