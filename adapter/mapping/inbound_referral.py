"""A referral message from a partner (BaRS servicerequest-request / new) → a native Referral.

Both shapes are read: our own `ld-onward-referral` messages (project extensions, a contained
referrer, `ld-consent` Consents) and the BaRS referral (UK Core resources linked by urn:uuid).
What the sender may not say about us (source, setting, site) comes from rules and settings.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from adapter.domain import ConsentDecision, LocalIdentifier, Person, Referral, Referrer
from adapter.domain.nhs_number import is_valid_nhs_number
from adapter.errors import InvalidInput, Issue, Unprocessable
from adapter.mapping import codes
from adapter.mapping.codes import mappings_dir
from adapter.mapping.common import as_dict, as_list, string_or_none
from adapter.mapping.consent import decision_from_consent
from adapter.mapping.inbound_people import referrer_of
from adapter.mapping.inbound_sources import Sources, fhir_issue
from adapter.mapping.message_bundle import MessageBundle
from adapter.mapping.patient import person_from_patient
from adapter.mapping.service_request import concerns_from
from adapter.native.fields import ODS_CODE, PHONE
from adapter.native.referral_schema import dump_referral, load_referral

MAX_LOCAL_ID = 64  # the native local_id's length
MAX_NOTES = 20
MAX_NOTE = 4000
_SCOPE = "ld-consent-scope"
_BAD_NHS_NUMBER = (
    "The sender's NHS number failed its Modulus 11 check and was not kept; trace the person."
)
_TWO_NHS_NUMBERS = (
    "The sender's Patient has more than one NHS number; none was kept: trace the person."
)


@dataclass(frozen=True)
class Sender:
    """What we know of the sending partner, from the partners bundle (not from the message)."""

    ods_code: str
    name: str | None
    source: str  # referral source code, see source_for


@dataclass(frozen=True)
class Received:
    """The referral a message asks for, and what was set aside from it, for the team to see."""

    referral: Referral
    warnings: tuple[Issue, ...] = ()


@functools.cache
def rules() -> dict:
    """mappings/inbound-referral-rules.json."""
    return json.loads((mappings_dir() / "inbound-referral-rules.json").read_text(encoding="utf-8"))


def source_for(pathways: frozenset[str], recipient_type: str | None) -> str:
    """The referral source code for a sender offering these pathways, of this recipient type."""
    source = rules()["source"]
    for pathway, code in source["by_pathway"].items():
        if pathway in pathways:
            return str(code)
    return str(source["by_recipient_type"].get(recipient_type, source["default"]))


def _request_source(request: dict) -> str | None:
    """The source a ServiceRequest's category implies (an L&D adapter's onward referral)."""
    systems = rules()["source"]["by_request_category_system"]
    for concept in as_list(request.get("category")):
        for coding in as_list(as_dict(concept).get("coding")):
            source = systems.get(as_dict(coding).get("system"))
            if source:
                return str(source)
    return None


def sender_request_key(message: MessageBundle, request: dict) -> str:
    """How the sender names its ServiceRequest: identifier, else id, else its urn:uuid fullUrl."""
    for identifier in as_list(request.get("identifier")):
        value = string_or_none(as_dict(identifier).get("value"))
        if value:
            return value
    return _resource_key(message, request)


def _resource_key(message: MessageBundle, resource: dict) -> str:
    """The sender's id of a resource in its message: its id, else its urn:uuid fullUrl."""
    if string_or_none(resource.get("id")):
        return str(resource["id"])
    full_url = message.full_url(resource) or ""
    if full_url.startswith("urn:uuid:"):
        return full_url.removeprefix("urn:uuid:")
    kind = resource.get("resourceType")
    raise Unprocessable(
        Issue(
            f"Expected the {kind} to carry an id or a urn:uuid fullUrl, so later messages can "
            "name it.",
            code="required",
            expression=(f"{kind}.id",),
        )
    )


def inbound_local_id(sender_ods: str, key: str) -> str:
    """The local_id of a referral received from a sender: its ODS code and its request's key."""
    local_id = f"{sender_ods}-{key}"
    if len(local_id) <= MAX_LOCAL_ID:
        return local_id
    # Too long to store as sent: a digest keeps it unique and stable for the cancellation.
    return f"{sender_ods}-{hashlib.sha256(key.encode()).hexdigest()[:40]}"


def referral_from_message(
    message: MessageBundle, request: dict, sender: Sender, site: str, received_at: datetime
) -> Received:
    """The native Referral a referral message's focus ServiceRequest asks for, checked as input."""
    patient = message.resolve(request.get("subject"))
    if patient is None or patient.get("resourceType") != "Patient":
        raise Unprocessable(
            Issue(
                "Expected ServiceRequest.subject to reference a Patient in the Bundle.",
                code="required",
                expression=("ServiceRequest.subject",),
            )
        )
    warnings: list[Issue] = []
    try:
        person = _person(message, patient, sender, warnings)
        found = _consents(message, sender, received_at)
    except InvalidInput as error:
        raise Unprocessable(error.issues) from None
    kept = [(d, c) for d, c in found if not _adapter_recorded(d)]
    referral = Referral(
        local_id=inbound_local_id(sender.ods_code, sender_request_key(message, request)),
        received_at=received_at,
        source=_request_source(request) or sender.source,
        setting=str(rules()["setting"]),
        site=site,
        person=person,
        urgency=_urgency(request),
        referrer=_referrer(message, request, sender),
        concerns=concerns_from(request.get("reasonCode")),
        consents=tuple(d for d, _ in kept),
        notes=_notes(request, [d for d, _ in found if _adapter_recorded(d)]),
    )
    sources = Sources(message, request, patient, tuple(c for _, c in kept))
    return Received(checked(referral, sources), tuple(warnings))


def _person(message: MessageBundle, patient: dict, sender: Sender, warnings: list[Issue]) -> Person:
    """The person; a bad NHS number (or two) is set aside with a warning, not refused."""
    person = person_from_patient(patient)
    if person.nhs_number and not is_valid_nhs_number(person.nhs_number):
        # Refusing the referral would leave the person unseen; the team is told instead.
        person = replace(person, nhs_number=None)
        warnings.append(
            Issue(
                _BAD_NHS_NUMBER,
                code="value",
                severity="warning",
                expression=("Patient.identifier",),
            )
        )
    if len(_nhs_numbers(patient)) > 1:
        # Two NHS numbers are two people until traced: keeping either could join the wrong one.
        person = replace(person, nhs_number=None)
        warnings.append(
            Issue(
                _TWO_NHS_NUMBERS,
                code="value",
                severity="warning",
                expression=("Patient.identifier",),
            )
        )
    if not (person.nhs_number or person.local_identifiers):
        # The native rules need one identifier: the sender's own id of the Patient names it.
        sender_id = LocalIdentifier(
            "local-patient-id", _resource_key(message, patient)[:64], assigner=sender.ods_code
        )
        person = replace(person, local_identifiers=(sender_id,))
    return person


def _nhs_numbers(patient: dict) -> set[str]:
    system = codes.url("identifier.nhs-number")
    identifiers = [i for i in as_list(patient.get("identifier")) if isinstance(i, dict)]
    return {str(i.get("value")) for i in identifiers if i.get("system") == system}


def checked(referral: Referral, sources: Sources) -> Referral:
    """The referral, after the native API's own checks; Unprocessable lists what fails, each
    naming the element of the sender's message the failing field came from."""
    try:
        load_referral(dump_referral(referral))
    except InvalidInput as error:
        raise Unprocessable([fhir_issue(i, sources, rules()) for i in error.issues]) from None
    return referral


def _adapter_recorded(decision: ConsentDecision) -> bool:
    # Only an adapter records these (sharing on a lawful basis): the native record cannot hold
    # them as input, so they are carried as a note.
    return codes.prop("ld-consent-decision", decision.decision, "recorded-by-adapter") is True


def _urgency(request: dict) -> str:
    priority = request.get("priority")
    return (
        priority
        if isinstance(priority, str) and codes.has("request-priority", priority)
        else "routine"
    )


def _referrer(message: MessageBundle, request: dict, sender: Sender) -> Referrer | None:
    found = referrer_of(message, request)
    if found is None:
        return Referrer(organisation_ods=sender.ods_code, organisation_name=sender.name)
    found = _tidy(found)
    if not (found.organisation_ods or found.organisation_name):
        return replace(found, organisation_ods=sender.ods_code, organisation_name=sender.name)
    return found


def _tidy(referrer: Referrer) -> Referrer:
    """Referrer details within the native limits: who referred is context, so a malformed phone
    number or ODS code is left out and long text cut, rather than the referral refused."""
    return Referrer(
        name=referrer.name[:100] if referrer.name else None,
        role=referrer.role[:100] if referrer.role else None,
        organisation_ods=_matching(ODS_CODE, referrer.organisation_ods),
        organisation_name=referrer.organisation_name[:200] if referrer.organisation_name else None,
        phone=_matching(PHONE, referrer.phone),
    )


def _matching(pattern: re.Pattern[str], value: str | None) -> str | None:
    return value if value is not None and pattern.fullmatch(value) else None


def _consents(
    message: MessageBundle, sender: Sender, received_at: datetime
) -> tuple[tuple[ConsentDecision, dict], ...]:
    """Each Consent in the message as a decision, with its Consent; one per scope, the first."""
    found: dict[str, tuple[ConsentDecision, dict]] = {}
    for index, consent in enumerate(message.of_type("Consent")):
        decision = _decision(consent, index, sender, received_at)
        if decision is not None and decision.scope not in found:
            found[decision.scope] = (decision, consent)
    return tuple(found.values())


def _decision(
    consent: dict, index: int, sender: Sender, received_at: datetime
) -> ConsentDecision | None:
    categories = [as_dict(c).get("coding") for c in as_list(consent.get("category"))]
    if any(codes.code_from(_SCOPE, coding) for coding in categories):
        return decision_from_consent(consent, index)
    scope = _bars_scope(categories)
    if scope is None or consent.get("status") != "active":
        return None
    provision = as_dict(consent.get("provision")).get("type")
    decision = rules()["consent_provision"].get(provision, "agreed")
    return ConsentDecision(
        scope=scope,
        decision=decision,
        capacity=str(rules()["consent_capacity"]),
        recorded_by=sender.name or sender.ods_code,
        recorded_at=_date_time(consent.get("dateTime")) or received_at,
    )


def _bars_scope(categories: list) -> str | None:
    table = rules()["consent_categories"]
    for coding in categories:
        for one in as_list(coding):
            key = f"{as_dict(one).get('system')}|{as_dict(one).get('code')}"
            if key in table:
                return str(table[key])
    return None


def _date_time(value: object) -> datetime | None:
    """A FHIR dateTime; a bare date is taken as its midnight UTC."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _notes(request: dict, lawful: list[ConsentDecision]) -> tuple[str, ...]:
    """The sender's notes, reasons given only as text (coded ones become concerns), and any
    sharing without consent the sender recorded."""
    notes = [
        note["text"]
        for note in as_list(request.get("note"))
        if isinstance(note, dict) and string_or_none(note.get("text"))
    ]
    for concept in as_list(request.get("reasonCode")):
        concept = as_dict(concept)
        if not concerns_from([concept]) and string_or_none(concept.get("text")):
            notes.append(f"Reason given by the referrer: {concept['text']}")
    for decision in lawful:
        basis = decision.lawful_basis
        basis = codes.display("ld-lawful-basis", basis) if basis else "basis not given"
        notes.insert(
            0,
            f"The sender shared this referral without consent on a lawful basis ({basis}), "
            f"recorded by {decision.recorded_by} at {decision.recorded_at.isoformat()}.",
        )
    return tuple(note[:MAX_NOTE] for note in notes[:MAX_NOTES])
