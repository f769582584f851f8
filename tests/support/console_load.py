"""Many outbox messages and their attempts, inserted straight into the tables (no worker).

For the console's benchmark and its index checks: the overview must stay fast with 100,000
messages stored, most delivered long ago, a few waiting or dead-lettered.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import orjson

from adapter.exchange.model import DEAD_LETTER, DELIVERED, QUEUED, RETRYING
from adapter.store import Store
from adapter.store.tables import outbox_attempt, outbox_message
from tests.support.outbox import endpoint, message_bundle

# Of every 100 messages: 90 delivered, 5 dead-lettered, 3 retrying, 2 queued.
_MIX = [DELIVERED] * 90 + [DEAD_LETTER] * 5 + [RETRYING] * 3 + [QUEUED] * 2
_CHUNK = 5000


def load_messages(store: Store, count: int, partners: int = 10, days: int = 30) -> None:
    """Insert `count` messages spread over `partners` endpoints and the last `days` days."""
    now = datetime.now(UTC)
    body = orjson.dumps(message_bundle("bench")).decode()
    with store.unit_of_work() as uow:
        for number in range(partners):
            address = f"http://partner-{number}.test/fhir"
            uow.resources.create({**endpoint(address, f"endpoint-{number}"), "name": f"P{number}"})
    for start in range(0, count, _CHUNK):
        messages, attempts = [], []
        for index in range(start, min(start + _CHUNK, count)):
            status = _MIX[index % len(_MIX)]
            created = now - timedelta(seconds=(count - index) * days * 86_400 / count)
            row = _message_row(index, status, created, body, partners)
            messages.append(row)
            if status != QUEUED:
                attempts.append(_attempt_row(row, status, created + timedelta(seconds=5)))
        with store.engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                for row in messages:
                    del row["sequence"]  # PostgreSQL numbers them (an identity column)
            connection.execute(outbox_message.insert(), messages)
            connection.execute(outbox_attempt.insert(), attempts)
    with store.engine.begin() as connection:
        connection.exec_driver_sql("ANALYZE")


def _message_row(index: int, status: str, created: datetime, body: str, partners: int) -> dict:
    delivered = status == DELIVERED
    return {
        "id": str(uuid.uuid4()),
        "sequence": index + 1,
        "request_id": str(uuid.uuid4()),
        "correlation_id": str(uuid.uuid4()),
        "endpoint_id": f"endpoint-{index % partners}",
        "transport": "fhir-messaging",
        "ordering_key": f"endpoint-{index % partners}|person-{index}",
        "kind": "onward-referral",
        "onward_referral_id": None,
        "status": status,
        "attempts": 0 if status == QUEUED else 1,
        "created_at": created,
        "next_attempt_at": created,
        "expires_at": created + timedelta(days=3),
        "delivered_at": created + timedelta(seconds=5) if delivered else None,
        "last_attempt_at": None if status == QUEUED else created + timedelta(seconds=5),
        "last_status_code": None if status == QUEUED else (200 if delivered else 503),
        "last_error": None if delivered or status == QUEUED else "HTTP 503",
        "partner_outcome": None,
        "lease_owner": None,
        "lease_expires_at": None,
        "headers": "{}",
        "body": body,
    }


def _attempt_row(message: dict, status: str, at: datetime) -> dict:
    return {
        "message_id": message["id"],
        "endpoint_id": message["endpoint_id"],
        "at": at,
        "result": status,
        "status_code": message["last_status_code"],
        "error": message["last_error"],
        "partner_outcome": None,
        "worker": "bench",
    }
