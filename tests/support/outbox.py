"""Outbox messages for tests and benchmarks, seeded straight into the store (no message builder)."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from adapter.exchange.model import OutboundMessage
from adapter.store import Store

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
