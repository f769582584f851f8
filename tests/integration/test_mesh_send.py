"""Onward referrals to partners reached over MESH: outbox → our mailbox → theirs (mesh-sandbox)."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import replace
from pathlib import Path

import orjson
import pytest
from flask import Flask
from flask.testing import FlaskClient

from adapter import create_app
from adapter.exchange.model import OutboundMessage
from adapter.exchange.worker import DeliveryWorker
from adapter.settings import Settings
from tests.integration.store_fixtures import database_url, postgres_url  # noqa: F401 - fixtures
from tests.support.mesh_partners import MPFT_MAILBOX, OUR_MAILBOX, drain, partners_over_mesh
from tests.support.mesh_sandbox import PASSWORD, MeshSandbox

ROOT = Path(__file__).resolve().parents[2]
REFERRAL = ROOT / "fixtures" / "native" / "referrals" / "adult-custody-telford.json"
GP = "example-medical-practice-gp"
GP_ENDPOINT = "example-medical-practice-fhir-msg"
GP_MAILBOX = "X26ABC3"
PRACTITIONER = {"name": "Alex Morgan", "role": "L&D practitioner (RMN)"}


@pytest.fixture
def settings(tmp_path: Path, mesh_sandbox: MeshSandbox, database_url: str) -> Settings:  # noqa: F811
    """Our app: the GP practice and MPFT's L&D reached over MESH; tests run the worker."""
    drain(mesh_sandbox, OUR_MAILBOX, MPFT_MAILBOX, GP_MAILBOX)
    partners = partners_over_mesh(
        tmp_path, {GP_ENDPOINT: GP_MAILBOX, "mpft-ld-fhir-msg": MPFT_MAILBOX}
    )
    return Settings(
        home=tmp_path,
        base_url="http://testserver",
        database_url=database_url,
        partners_path=partners,
        delivery_in_process=False,
        delivery_backoff_base=0.01,
        delivery_backoff_max=0.01,
        mesh_url=mesh_sandbox.url,
        mesh_mailbox=OUR_MAILBOX,
        mesh_password=PASSWORD,
        mesh_shared_key=mesh_sandbox.shared_key,
        mesh_poll=False,  # these tests send; test_mesh_receive polls
    )


def refer_to_gp(client: FlaskClient, auth: dict) -> dict:
    """A referral, then an onward referral to the GP practice; the onward referral."""
    payload = json.loads(REFERRAL.read_text(encoding="utf-8"))
    payload["local_id"] = f"MESH-{uuid.uuid4().hex[:12]}"  # a new referral each time
    referral = client.post("/api/referrals", json=payload, headers=auth)
    assert referral.status_code == 201, referral.get_json()
    body = {"pathway": "gp", "to": GP, "referred_by": PRACTITIONER, "reason": "Low mood"}
    onward = client.post(
        f"/api/referrals/{referral.get_json()['id']}/onward-referrals", json=body, headers=auth
    )
    assert onward.status_code == 201, onward.get_json()
    return dict(onward.get_json())


def deliver(app: Flask, settings: Settings | None = None) -> int:
    context = app.extensions["ld_adapter"]
    worker = DeliveryWorker(context.store, settings or context.settings)
    try:
        return worker.run_once()
    finally:
        worker.close()


def delivery(client: FlaskClient, auth: dict, onward: dict) -> dict:
    found = client.get(f"/api/onward-referrals/{onward['id']}", headers=auth).get_json()
    return dict(found["delivery"])


def outbox_message(app: Flask, onward: dict) -> OutboundMessage:
    with app.extensions["ld_adapter"].store.unit_of_work(read_only=True) as uow:
        (message,) = uow.outbox.for_onward_referral(onward["id"])
    return message


def test_an_onward_referral_goes_to_the_partners_mailbox(
    app: Flask, client: FlaskClient, auth: dict, mesh_sandbox: MeshSandbox
) -> None:
    onward = refer_to_gp(client, auth)
    assert mesh_sandbox.inbox(GP_MAILBOX) == []  # no request calls a partner

    assert deliver(app) == 1

    assert delivery(client, auth, onward)["status"] == "delivered"
    (message_id,) = mesh_sandbox.inbox(GP_MAILBOX)
    with mesh_sandbox.client(GP_MAILBOX) as gp:
        received = gp.retrieve_message(message_id)
        body = orjson.loads(received.read())
        envelope = (received.sender, received.workflow_id, received.local_id, received.subject)
    queued = outbox_message(app, onward)
    assert queued.transport == "mesh"
    assert envelope == (OUR_MAILBOX, "LD_FHIR_MESSAGE", queued.request_id, queued.correlation_id)
    assert body == queued.body
    assert body["entry"][0]["resource"]["eventCoding"]["code"] == "servicerequest-request"


def test_a_wrong_password_keeps_the_message_until_it_is_fixed(
    app: Flask, client: FlaskClient, auth: dict, mesh_sandbox: MeshSandbox, settings: Settings
) -> None:
    onward = refer_to_gp(client, auth)

    assert deliver(app, replace(settings, mesh_password="not-the-password")) == 1

    state = delivery(client, auth, onward)
    assert state["status"] == "retrying"
    assert "credentials (HTTP 403)" in state["last_error"]
    assert "not-the-password" not in json.dumps(state) and PASSWORD not in state["last_error"]
    assert mesh_sandbox.inbox(GP_MAILBOX) == []
    time.sleep(0.05)  # the backoff (10 ms) has passed
    assert deliver(app) == 1
    assert delivery(client, auth, onward)["status"] == "delivered"
    assert len(mesh_sandbox.inbox(GP_MAILBOX)) == 1


def test_messages_wait_while_mesh_is_down_and_go_once_it_is_back(
    app: Flask, client: FlaskClient, auth: dict, mesh_sandbox: MeshSandbox
) -> None:
    # One person, one partner: the second waits behind the first (per-partner, per-person order).
    first, second = refer_to_gp(client, auth), refer_to_gp(client, auth)
    mesh_sandbox.stop()
    try:
        assert deliver(app) == 1
        state = delivery(client, auth, first)
        assert (state["status"], state["last_error"]) == ("retrying", "MESH connection failed")
    finally:
        mesh_sandbox.start()
    for _ in range(2):
        time.sleep(0.05)  # the backoff (10 ms) has passed
        assert deliver(app) == 1
    assert [delivery(client, auth, o)["status"] for o in (first, second)] == ["delivered"] * 2
    local_ids = []
    with mesh_sandbox.client(GP_MAILBOX) as gp:
        for message_id in gp.list_messages():
            local_ids.append(gp.retrieve_message(message_id).local_id)
    expected = [outbox_message(app, o).request_id for o in (first, second)]
    assert sorted(local_ids) == sorted(expected)  # each exactly once


def test_an_unknown_mailbox_is_a_dead_letter_with_meshs_reason(
    app: Flask, client: FlaskClient, auth: dict, tmp_path: Path, settings: Settings
) -> None:
    partners = partners_over_mesh(tmp_path, {GP_ENDPOINT: "X99ZZZ9"})
    other_app = create_app(replace(settings, partners_path=partners))
    try:
        other = other_app.test_client()
        onward = refer_to_gp(other, auth)
        assert deliver(other_app) == 1
        state = delivery(other, auth, onward)
    finally:
        other_app.extensions["ld_adapter"].store.dispose()
    assert state["status"] == "dead-letter"
    assert state["last_error"] == "MESH HTTP 417: SEND 12 Unregistered to address"
