"""Answering a referral a partner sent: decisions and outcomes go back as BaRS responses."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from adapter.conformance import has_errors, validate
from adapter.settings import Settings
from tests.integration.store_fixtures import database_url, postgres_url  # noqa: F401 - fixtures
from tests.integration.test_audit import audits
from tests.support.answers import REFERRALS, received_referral
from tests.support.partner_app import deliver, partner_app_settings
from tests.support.partner_server import PartnerServer

ACCEPT = {"decision": "accepted", "recorded_by": "Sam Patel"}
REJECT = {"decision": "rejected", "reason": "40", "recorded_by": "Sam Patel"}


@pytest.fixture
def partner() -> Iterator[PartnerServer]:
    with PartnerServer() as server:
        yield server


@pytest.fixture
def settings(tmp_path: Path, partner: PartnerServer, database_url: str) -> Settings:  # noqa: F811
    """An app on SQLite and PostgreSQL whose partners all live at the test partner's address."""
    return partner_app_settings(tmp_path, partner.base, database_url)


def _post(client: FlaskClient, auth: dict, referral_id: str, kind: str, body: dict):  # type: ignore[no-untyped-def]
    return client.post(f"/api/referrals/{referral_id}/{kind}", json=body, headers=auth)


def test_accepting_then_seen_sends_two_valid_responses_in_the_conversation(
    app: Flask, client: FlaskClient, auth: dict, partner: PartnerServer, fhirjs
) -> None:
    referral, received = received_referral(app, client, auth, partner.base)
    accepted = _post(client, auth, referral["id"], "decision", ACCEPT)
    assert accepted.status_code == 201, accepted.get_json()
    assert accepted.get_json()["decision"] == "accepted"
    assert partner.received == []  # queued, not sent in the request
    seen = _post(client, auth, referral["id"], "outcome", {"outcome": "seen", "recorded_by": "Sam"})
    assert seen.status_code == 201, seen.get_json()

    assert deliver(app) >= 1
    deliver(app)  # the outcome waits behind the decision (one queue per referral)
    arrived = partner.wait_for(2)
    codes = []
    for message in arrived:
        assert message.correlation_id == received.correlation_id
        assert message.request_id != received.request_id
        assert not has_errors(validate(message.bundle)), validate(message.bundle)
        assert fhirjs.validate(message.bundle) == []
        header = message.bundle["entry"][0]["resource"]
        assert header["eventCoding"]["code"] == "servicerequest-response"
        assert header["response"] == {"identifier": received.bundle_id, "code": "ok"}
        assert header["destination"][0]["endpoint"] == partner.base
        task = next(
            e["resource"]
            for e in message.bundle["entry"]
            if e["resource"]["resourceType"] == "Task"
        )
        codes.append(task["businessStatus"]["coding"][0]["code"])
    assert codes == ["accepted", "seen"]
    moved = client.get(f"/api/referrals/{referral['id']}", headers=auth).get_json()
    assert moved["status"] == "screening"
    listed = client.get(f"/api/referrals/{referral['id']}/answers", headers=auth).get_json()
    assert [a["kind"] for a in listed["items"]] == ["decision", "outcome"]
    assert listed["items"][0]["message"]["status"] == "delivered"


def test_a_rejection_needs_a_bars_reason_and_closes_the_referral(
    app: Flask, client: FlaskClient, auth: dict, partner: PartnerServer
) -> None:
    referral, _ = received_referral(app, client, auth, partner.base)
    no_reason = _post(client, auth, referral["id"], "decision", {**REJECT, "reason": None})
    assert no_reason.status_code == 400
    assert no_reason.get_json()["issue"][0]["expression"] == ["reason"]
    unknown = _post(client, auth, referral["id"], "decision", {**REJECT, "reason": "not-a-code"})
    assert unknown.status_code == 400
    rejected = _post(client, auth, referral["id"], "decision", REJECT)
    assert rejected.status_code == 201, rejected.get_json()
    assert deliver(app) == 1
    task = next(
        e["resource"]
        for e in partner.wait_for(1)[0].bundle["entry"]
        if e["resource"]["resourceType"] == "Task"
    )
    assert task["status"] == "rejected"
    assert task["statusReason"]["coding"][0] == {
        "system": "https://fhir.nhs.uk/CodeSystem/dos-rejected-reasons-bars",
        "code": "40",
        "display": "Patient not eligible for service",
    }
    closed = client.get(f"/api/referrals/{referral['id']}", headers=auth).get_json()
    assert closed["status"] == "closed"


def test_answers_come_in_order_once(
    app: Flask, client: FlaskClient, auth: dict, partner: PartnerServer
) -> None:
    referral, _ = received_referral(app, client, auth, partner.base)
    early = _post(client, auth, referral["id"], "outcome", {"outcome": "seen", "recorded_by": "A"})
    assert early.status_code == 409
    assert early.get_json()["issue"][0]["details"]["coding"][0]["code"] == "REC_CONFLICT"
    wrong_kind = _post(
        client, auth, referral["id"], "decision", {"decision": "seen", "recorded_by": "A"}
    )
    assert wrong_kind.status_code == 400
    assert _post(client, auth, referral["id"], "decision", ACCEPT).status_code == 201
    assert _post(client, auth, referral["id"], "decision", REJECT).status_code == 409
    done = {"outcome": "completed", "recorded_by": "A"}
    assert _post(client, auth, referral["id"], "outcome", done).status_code == 201
    assert _post(client, auth, referral["id"], "outcome", done).status_code == 409
    closed = client.get(f"/api/referrals/{referral['id']}", headers=auth).get_json()
    assert closed["status"] == "closed"


def test_a_referral_recorded_here_cannot_be_answered(client: FlaskClient, auth: dict) -> None:
    payload = json.loads((REFERRALS / "adult-custody-telford.json").read_text(encoding="utf-8"))
    referral = client.post("/api/referrals", json=payload, headers=auth).get_json()
    refused = _post(client, auth, referral["id"], "decision", ACCEPT)
    assert refused.status_code == 422
    assert "received as a message" in refused.get_json()["issue"][0]["diagnostics"]
    assert client.get("/api/messages", headers=auth).get_json()["total"] == 0
    assert _post(client, auth, "no-such-referral", "decision", ACCEPT).status_code == 404


def test_answering_needs_its_scopes(
    app: Flask, client: FlaskClient, auth: dict, token, partner
) -> None:  # type: ignore[no-untyped-def]
    referral, _ = received_referral(app, client, auth, partner.base)
    reader = {"Authorization": f"Bearer {token('system/*.rs')}"}
    assert _post(client, reader, referral["id"], "decision", ACCEPT).status_code == 403


def test_answers_and_refusals_are_audited(
    app: Flask, client: FlaskClient, auth: dict, partner: PartnerServer
) -> None:
    referral, _ = received_referral(app, client, auth, partner.base)
    assert _post(client, auth, referral["id"], "decision", ACCEPT).status_code == 201
    assert _post(client, auth, referral["id"], "decision", ACCEPT).status_code == 409
    events = [e for e in audits(app) if e["action"] == "C" and e["subtype"][0]["code"] == "create"]
    outcomes = [e["outcome"] for e in events[-2:]]
    assert outcomes == ["0", "4"]
    text = json.dumps(events[-2:])
    assert "Sam Patel" not in text  # who recorded it is in the record, not the audit trail
