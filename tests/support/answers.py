"""A referral as if a partner had sent it by message: a native referral with its inbound row.

Until the $process-message branches merge, tests make the referral through the native API and
store the inbound_message row the receiver would have stored with it (same transaction there).
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

from adapter.store.inbound import InboundMessageRecord
from tests.support.onward import SCENARIOS, build

ROOT = Path(__file__).resolve().parents[2]
REFERRALS = ROOT / "fixtures" / "native" / "referrals"
SENDER_SERVICE = "bsmhft-ld-home-area"  # a home-area L&D partner in the local partners bundle


def referral_message() -> dict:
    """A referral message as a partner L&D adapter sends one (our own home-area shape)."""
    scenario = next(s for s in SCENARIOS if s.name == "home-area-ld")
    message = build(scenario).message
    fresh = str(uuid.uuid4())
    message["id"] = message["entry"][0]["resource"]["id"] = fresh
    message["identifier"]["value"] = fresh
    return message


def received_referral(
    app: Flask,
    client: FlaskClient,
    auth: dict,
    sender_endpoint: str,
    partner_service: str = SENDER_SERVICE,
) -> tuple[dict, InboundMessageRecord]:
    """A native referral and the inbound message row it came with; (record JSON, row)."""
    payload = json.loads((REFERRALS / "adult-custody-telford.json").read_text(encoding="utf-8"))
    created = client.post("/api/referrals", json=payload, headers=auth)
    assert created.status_code == 201, created.get_json()
    referral = created.get_json()
    body = referral_message()
    row = InboundMessageRecord(
        id=str(uuid.uuid4()),
        request_id=str(uuid.uuid4()),
        correlation_id=str(uuid.uuid4()),
        bundle_id=body["id"],
        event="servicerequest-request",
        reason="new",
        partner_service=partner_service,
        sender_endpoint=sender_endpoint,
        received_at=datetime.now(UTC),
        referral_id=referral["id"],
        body=body,
    )
    with app.extensions["ld_adapter"].store.unit_of_work() as uow:
        uow.inbound.add(row)
    return referral, row
