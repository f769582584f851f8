"""Outbox messages for tests and benchmarks, seeded straight into the store (no message builder)."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson

from adapter.domain import ConsentDecision
from adapter.exchange.model import OutboundMessage
from adapter.mapping.consent import consent_from_decision
from adapter.store import OnwardReferralRecord, ReferralRecord, Store

ENDPOINT_ID = "partner-endpoint"
EVENT = "https://fhir.nhs.uk/CodeSystem/message-events-bars"


def endpoint(address: str, endpoint_id: str = ENDPOINT_ID) -> dict:
    """A partner's FHIR messaging Endpoint at `address` (its FHIR base)."""
    return {
        "resourceType": "Endpoint",
        "id": endpoint_id,
        "status": "active",
        "connectionType": {
            "system": "http://terminology.hl7.org/CodeSystem/endpoint-connection-type",
            "code": "hl7-fhir-msg",
        },
        "payloadType": [{"text": "FHIR message"}],
        "address": address,
    }


def message_bundle(message_id: str, patient_id: str = "p1") -> dict:
    """A small valid-looking FHIR message Bundle: MessageHeader first, then a Patient."""
    return {
        "resourceType": "Bundle",
        "id": message_id,
        "type": "message",
        "timestamp": "2026-12-01T09:00:00+00:00",
        "entry": [
            {
                "fullUrl": f"urn:uuid:{uuid.uuid4()}",
                "resource": {
                    "resourceType": "MessageHeader",
                    "id": str(uuid.uuid4()),
                    "eventCoding": {"system": EVENT, "code": "servicerequest-request"},
                    "source": {"endpoint": "http://adapter.test/fhir"},
                    "focus": [{"reference": f"Patient/{patient_id}"}],
                },
            },
            {
                "fullUrl": f"urn:uuid:{uuid.uuid4()}",
                "resource": {"resourceType": "Patient", "id": patient_id},
            },
        ],
    }


def message(
    now: datetime | None = None,
    ordering_key: str = "partner|p1",
    endpoint_id: str = ENDPOINT_ID,
    ttl: timedelta = timedelta(hours=72),
    **changes: object,
) -> OutboundMessage:
    """A queued message, due now, with fresh GUIDs for its id, request id and correlation id."""
    now = now or datetime.now(UTC)
    message_id = str(uuid.uuid4())
    base = OutboundMessage(
        id=message_id,
        request_id=str(uuid.uuid4()),
        correlation_id=str(uuid.uuid4()),
        endpoint_id=endpoint_id,
        transport="fhir-messaging",
        ordering_key=ordering_key,
        kind="onward-referral",
        body=message_bundle(message_id),
        created_at=now,
        next_attempt_at=now,
        expires_at=now + ttl,
        headers={"NHSD-Target-Identifier": "test"},
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def seed(store: Store, count: int, keys: int | None = None, **changes: object) -> list[str]:
    """Queue `count` messages (over `keys` ordering keys, default one each); their ids in order."""
    ids = []
    with store.unit_of_work() as uow:
        for index in range(count):
            key = f"partner|person-{index % keys if keys else index}"
            ids.append(uow.outbox.add(message(ordering_key=key, **changes)).id)  # type: ignore[arg-type]
    return ids


PARTNERS = Path(__file__).resolve().parents[2] / "fixtures" / "messages" / "partners.json"
T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
TASK = {
    "resourceType": "Task",
    "id": "t1",
    "status": "requested",
    "intent": "order",
    "businessStatus": {"text": "queued"},
}


def store_onward_referral(store: Store, address: str, onward_id: str = "o1") -> None:
    """A referral with the person's share-health consent, its onward referral `onward_id` (Task
    t1) to the test GP partner, whose Endpoint (ENDPOINT_ID) is at `address`; all stored."""
    row = next(
        r
        for r in orjson.loads(PARTNERS.read_bytes())["partners"]
        if r["recipient_type"] == "health"
    )
    service = {**row["service"], "endpoint": [{"reference": f"Endpoint/{ENDPOINT_ID}"}]}
    partner_endpoint = {**row["endpoint"], "id": ENDPOINT_ID, "address": address}
    agreed = ConsentDecision("share-health", "agreed", "has-capacity", "Alex Morgan", T0)
    referral = ReferralRecord(
        id="r-1",
        version=1,
        created_at=T0,
        updated_at=T0,
        local_id="L-1",
        status="received",
        received_at=T0,
        source="E1",
        setting="custody-suite",
        site="custody-telford",
        urgency="routine",
        resource_ids={"patient": "p1", "consents": ["Consent/c-health"]},
    )
    onward = OnwardReferralRecord(
        id=onward_id,
        version=1,
        referral_id="r-1",
        created_at=T0,
        updated_at=T0,
        pathway="gp",
        partner_service=service["id"],
        status="active",
        correlation_id=str(uuid.uuid4()),
        native={"pathway": "gp", "to": service["id"]},
        resource_ids={"task": "Task/t1", "consents": ["Consent/c-health"]},
    )
    with store.unit_of_work() as uow:
        for resource in (row["organization"], service, partner_endpoint, TASK):
            uow.resources.create(resource)
        uow.resources.create(consent_from_decision(agreed, "c-health", "p1"))
        uow.referrals.add(referral)
        uow.onward_referrals.add(onward)


def withdraw_consent(store: Store) -> None:
    """The person withdraws the consent store_onward_referral relied on."""
    with store.unit_of_work() as uow:
        consent = uow.resources.read("Consent", "c-health")
        assert consent is not None
        uow.resources.update({**consent, "status": "inactive"})
