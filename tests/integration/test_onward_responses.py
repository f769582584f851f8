"""A partner's responses to our onward referrals, and onward referrals overdue an answer."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from flask import Flask
from flask.testing import FlaskClient

from adapter.errors import Conflict, NotFound
from adapter.exchange.message import Sender
from adapter.exchange.outcomes import follow_task
from adapter.exchange.partners import Partner, partner_for_service
from adapter.exchange.response import Answer, response_message
from adapter.exchange.worker import DeliveryWorker
from adapter.services.inbound import Handled, Inbound
from adapter.services.inbound_responses import handle_response
from adapter.settings import Settings
from adapter.store.tables import onward_referral
from tests.integration.store_fixtures import database_url, postgres_url  # noqa: F401 - fixtures
from tests.support.partner_app import partner_app_settings
from tests.support.partner_server import PartnerServer

ROOT = Path(__file__).resolve().parents[2]
REFERRALS = ROOT / "fixtures" / "native" / "referrals"
GP = "example-medical-practice-gp"
CRISIS = "mpft-crisis-resolution-home-treatment"
PRACTITIONER = {"name": "Alex Morgan", "role": "L&D practitioner (RMN)"}


@pytest.fixture
def partner() -> Iterator[PartnerServer]:
    with PartnerServer() as server:
        yield server


@pytest.fixture
def settings(tmp_path: Path, partner: PartnerServer, database_url: str) -> Settings:  # noqa: F811
    """An app on SQLite and PostgreSQL whose partners all live at the test partner's address."""
    return partner_app_settings(tmp_path, partner.base, database_url)


def _onward(client: FlaskClient, auth: dict, pathway: str = "gp", to: str = GP) -> dict:
    payload = json.loads((REFERRALS / "adult-custody-telford.json").read_text(encoding="utf-8"))
    payload["local_id"] = f"TEST-{uuid.uuid4().hex[:12]}"  # one referral per onward referral
    referral = client.post("/api/referrals", json=payload, headers=auth).get_json()
    body = {"pathway": pathway, "to": to, "referred_by": PRACTITIONER}
    created = client.post(
        f"/api/referrals/{referral['id']}/onward-referrals", json=body, headers=auth
    )
    assert created.status_code == 201, created.get_json()
    return created.get_json()


def _sent(app: Flask, partner: PartnerServer) -> dict:
    """Deliver the queued message; the Bundle the partner got."""
    context = app.extensions["ld_adapter"]
    DeliveryWorker(context.store, context.settings).run_once()
    return partner.wait_for(1)[-1].bundle


def _partner(app: Flask, service: str) -> Partner:
    with app.extensions["ld_adapter"].store.unit_of_work(read_only=True) as uow:
        found = partner_for_service(uow, service)
    assert found is not None
    return found


def _respond(
    app: Flask,
    sent: dict,
    code: str,
    reason: str | None = None,
    by: str = GP,
    names: str = "",
    without_task: bool = False,
) -> Handled:
    """The partner's servicerequest-response to `sent`, handled as $process-message would."""
    them = _partner(app, by)
    us = next(
        (
            e["resource"]
            for e in sent["entry"]
            if e["resource"]["resourceType"] == "Organization"
            and e["resource"]["id"] != them.organization["id"]
        ),
        them.organization,
    )  # a partner of our own trust (crisis team) shares our Organization
    as_seen = SimpleNamespace(organization=us, service={}, endpoint={})
    sender = Sender(them.organization, them.endpoint["address"], "https://partner.example/fhir")
    at = datetime.now(UTC)
    answer = Answer(code, reason, at, str(uuid.uuid4()))
    bundle = response_message(str(uuid.uuid4()), answer, sent, as_seen, sender, "ours")
    header = bundle["entry"][0]["resource"]
    if names:
        header["response"]["identifier"] = names
    if without_task:  # BaRS's own shape: the ServiceRequest's status alone
        bundle["entry"] = [e for e in bundle["entry"] if e["resource"]["resourceType"] != "Task"]
    inbound = Inbound(bundle, header, str(uuid.uuid4()), str(uuid.uuid4()), them, at)
    context = app.extensions["ld_adapter"]
    with context.store.unit_of_work() as uow:
        return handle_response(uow, context.settings, context.directory, inbound)


def _fhir(client: FlaskClient, auth: dict, reference: str) -> dict:
    return client.get(f"/fhir/{reference}", headers=auth).get_json()


def test_responses_move_the_task_and_request_and_keep_history(
    app: Flask, client: FlaskClient, auth: dict, partner: PartnerServer
) -> None:
    onward = _onward(client, auth)
    sent = _sent(app, partner)
    handled = _respond(app, sent, "accepted")
    assert handled == Handled(200, onward_referral_id=onward["id"])
    now = client.get(f"/api/onward-referrals/{onward['id']}", headers=auth).get_json()
    assert now["outcome"]["status"] == "accepted"
    assert now["status"] == "active"
    task = _fhir(client, auth, now["fhir"]["task"])
    assert task["status"] == "accepted"
    assert task["businessStatus"]["coding"][0]["code"] == "accepted"

    _respond(app, sent, "seen")
    _respond(app, sent, "completed")
    done = client.get(f"/api/onward-referrals/{onward['id']}", headers=auth).get_json()
    assert [o["status"] for o in done["outcomes"]] == ["accepted", "seen", "completed"]
    assert done["outcome"]["status"] == "completed"
    assert done["status"] == "completed"
    assert _fhir(client, auth, done["fhir"]["service_request"])["status"] == "completed"
    assert _fhir(client, auth, done["fhir"]["task"])["status"] == "completed"
    history = client.get(f"/fhir/{done['fhir']['task']}/_history", headers=auth).get_json()
    assert history["total"] >= 4  # queued, delivered, accepted, seen, completed: versions kept


def test_a_rejection_revokes_the_request_with_the_bars_reason(
    app: Flask, client: FlaskClient, auth: dict, partner: PartnerServer
) -> None:
    onward = _onward(client, auth)
    _respond(app, _sent(app, partner), "rejected", "22")
    now = client.get(f"/api/onward-referrals/{onward['id']}", headers=auth).get_json()
    assert now["status"] == "rejected"
    assert now["outcome"]["reason"] == "22"
    task = _fhir(client, auth, now["fhir"]["task"])
    assert task["status"] == "rejected"
    assert task["statusReason"]["coding"][0]["code"] == "22"
    assert _fhir(client, auth, now["fhir"]["service_request"])["status"] == "revoked"


def test_a_response_to_nothing_we_sent_or_from_another_partner_is_not_found(
    app: Flask, client: FlaskClient, auth: dict, partner: PartnerServer
) -> None:
    onward = _onward(client, auth)
    sent = _sent(app, partner)
    with pytest.raises(NotFound):
        _respond(app, sent, "accepted", names=str(uuid.uuid4()))
    with pytest.raises(NotFound):
        _respond(app, sent, "accepted", by=CRISIS)
    now = client.get(f"/api/onward-referrals/{onward['id']}", headers=auth).get_json()
    assert now["outcomes"] == []


def test_a_response_after_we_cancelled_is_a_conflict(
    app: Flask, client: FlaskClient, auth: dict, partner: PartnerServer
) -> None:
    onward = _onward(client, auth)
    sent = _sent(app, partner)
    cancelled = client.post(f"/api/onward-referrals/{onward['id']}/cancel", headers=auth)
    assert cancelled.status_code == 200
    with pytest.raises(Conflict):
        _respond(app, sent, "accepted")


def _backdate(app: Flask, onward_id: str, days: float) -> None:
    with app.extensions["ld_adapter"].store.unit_of_work() as uow:
        uow._connection.execute(
            onward_referral.update()
            .where(onward_referral.c.id == onward_id)
            .values(created_at=datetime.now(UTC) - timedelta(days=days))
        )


def test_overdue_lists_active_unanswered_past_their_pathways_wait(
    app: Flask, client: FlaskClient, auth: dict, partner: PartnerServer
) -> None:
    gp = _onward(client, auth)
    crisis = _onward(client, auth, "crisis-team", CRISIS)
    answered = _onward(client, auth, "crisis-team", CRISIS)
    assert client.get("/api/onward-referrals?overdue=true", headers=auth).get_json()["total"] == 0
    for record in (gp, crisis, answered):
        _backdate(app, record["id"], 3)  # crisis team: 2 days; GP: 14 days
    context = app.extensions["ld_adapter"]
    for _ in range(2):  # the two to one partner about one person go one after the other
        DeliveryWorker(context.store, context.settings).run_once()
    sent = partner.wait_for(3)
    answered_message = next(
        m.bundle for m in sent if m.bundle["id"] == _message_id(client, auth, answered)
    )
    _respond(app, answered_message, "accepted", by=CRISIS)

    overdue = client.get("/api/onward-referrals?overdue=true", headers=auth).get_json()
    assert [item["id"] for item in overdue["items"]] == [crisis["id"]]
    assert overdue["items"][0]["overdue_since"]
    everything = client.get("/api/onward-referrals?limit=2", headers=auth).get_json()
    assert everything["total"] == 3 and len(everything["items"]) == 2
    bad = client.get("/api/onward-referrals?overdue=yes&since=1", headers=auth)
    assert bad.status_code == 400
    assert {tuple(i["expression"]) for i in bad.get_json()["issue"]} == {("since",), ("overdue",)}


def _message_id(client: FlaskClient, auth: dict, onward: dict) -> str:
    now = client.get(f"/api/onward-referrals/{onward['id']}", headers=auth).get_json()
    return str(now["delivery"]["message_id"])


def test_delivery_news_never_hides_the_partners_answer(
    app: Flask, client: FlaskClient, auth: dict, partner: PartnerServer
) -> None:
    onward = _onward(client, auth)
    sent = _sent(app, partner)
    _respond(app, sent, "accepted")
    context = app.extensions["ld_adapter"]
    with context.store.unit_of_work() as uow:
        message = uow.outbox.get(sent["id"])
        assert message is not None
        follow_task(uow, message, datetime.now(UTC))
    now = client.get(f"/api/onward-referrals/{onward['id']}", headers=auth).get_json()
    assert _fhir(client, auth, now["fhir"]["task"])["status"] == "accepted"


def test_a_response_without_a_task_is_read_from_the_service_request_status(
    app: Flask, client: FlaskClient, auth: dict, partner: PartnerServer
) -> None:
    onward = _onward(client, auth)
    _respond(app, _sent(app, partner), "rejected", without_task=True)
    now = client.get(f"/api/onward-referrals/{onward['id']}", headers=auth).get_json()
    assert now["outcome"]["status"] == "rejected"
    assert now["outcome"]["reason"] is None
