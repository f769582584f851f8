"""GP Connect Send Document through a real MESH (mesh-sandbox): the practice's mailbox gets a valid
ITK3 message with a readable PDF; the practice's acks, sent back through MESH, move the Task."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient

from adapter.exchange.mesh_inbox import MeshInbox
from adapter.exchange.stu3_check import stu3_problems
from adapter.exchange.worker import DeliveryWorker
from adapter.settings import Settings
from tests.integration.store_fixtures import database_url, postgres_url  # noqa: F401 - fixtures
from tests.integration.test_mesh_reports import mesh_report
from tests.support.gp_mesh import GP, gp_mesh_settings, itk_ack
from tests.support.mesh_sandbox import PASSWORD, MeshSandbox
from tests.support.pdf_text import pdf_text

ROOT = Path(__file__).resolve().parents[2]
REFERRAL = ROOT / "fixtures" / "native" / "referrals" / "adult-custody-telford.json"
OURS = "X26ABC1"
# Where MESH would route GPPROVIDER_<NHS number>_<DDMMYYYY>_<surname> for the referral's person.
PRACTICE = "GPPROVIDER_9990012342_02061988_Hartley"
ACK_WORKFLOW = "GPFED_CONSULT_REPORT_ACK"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[MeshSandbox]:
    with MeshSandbox(extra_mailboxes=(PRACTICE,)) as server:
        yield server


@pytest.fixture
def settings(tmp_path: Path, sandbox: MeshSandbox, database_url: str) -> Settings:  # noqa: F811
    return gp_mesh_settings(
        tmp_path,
        database_url,
        mesh_url=sandbox.url,
        mesh_mailbox=OURS,
        mesh_password=PASSWORD,
        mesh_shared_key=sandbox.shared_key,
    )


def _refer(client: FlaskClient, auth: dict) -> dict:
    payload = json.loads(REFERRAL.read_text(encoding="utf-8"))
    referral = client.post("/api/referrals", json=payload, headers=auth).get_json()
    body = {
        "pathway": "gp",
        "to": GP,
        "referred_by": {"name": "Alex Morgan", "role": "L&D practitioner (RMN)"},
        "reason": "Please review his low mood and drinking.",
    }
    created = client.post(
        f"/api/referrals/{referral['id']}/onward-referrals", json=body, headers=auth
    )
    assert created.status_code == 201, created.get_json()
    return created.get_json()


def _deliver(app: Flask, settings: Settings) -> int:
    """One delivery pass, as `ld-adapter worker` would make (over MESH: our mailbox's client)."""
    worker = DeliveryWorker(app.extensions["ld_adapter"].store, settings)
    try:
        return worker.run_once()
    finally:
        worker.close()


def _practice_takes_one(sandbox: MeshSandbox) -> tuple[str | None, dict]:
    """Download the one waiting message as the practice would, and acknowledge it."""
    with sandbox.client(PRACTICE.upper()) as practice:
        ids = list(practice.list_messages())
        assert len(ids) == 1, sandbox.log()[-2000:]
        message = practice.retrieve_message(ids[0])
        workflow, body = message.workflow_id, json.loads(message.read())
        message.acknowledge()
    return workflow, body


def _ack(sandbox: MeshSandbox, app: Flask, settings: Settings, answers: str, code: str) -> None:
    """The practice sends an ITK3 response back to our mailbox; our inbox poll takes it."""
    with sandbox.client(PRACTICE.upper()) as practice:
        practice.send_message(
            OURS, itk_ack(answers, code, ok=code in ("20013", "30001")), workflow_id=ACK_WORKFLOW
        )
    inbox = MeshInbox(app.extensions["ld_adapter"].store, settings)
    try:
        assert inbox.poll_once().taken == 1
    finally:
        inbox.close()


def _task(client: FlaskClient, auth: dict, onward: dict) -> dict:
    return client.get(f"/fhir/{onward['fhir']['task']}", headers=auth).get_json()


def test_the_practice_gets_a_valid_send_document_and_its_acks_move_the_referral_to_filed(
    app: Flask, client: FlaskClient, auth: dict, settings: Settings, sandbox: MeshSandbox
) -> None:
    onward = _refer(client, auth)
    assert _deliver(app, settings) == 1
    assert _task(client, auth, onward)["businessStatus"]["coding"][0]["code"] == "sent"

    workflow, message = _practice_takes_one(sandbox)
    assert workflow == "GPFED_CONSULT_REPORT"
    assert stu3_problems(message) == []
    header = message["entry"][0]["resource"]
    assert header["event"]["code"] == "ITK007C"
    document = message["entry"][2]["resource"]
    binary = next(
        e["resource"] for e in document["entry"] if e["resource"]["resourceType"] == "Binary"
    )
    text = pdf_text(base64.b64decode(binary["content"]))
    assert "Daniel James Hartley" in text and "999 001 2342" in text
    assert "Please review his low mood and drinking." in text
    assert "22TE/4417/25" not in text

    _ack(sandbox, app, settings, header["id"], "20013")
    assert _task(client, auth, onward)["businessStatus"]["coding"][0]["code"] == "delivered"
    _ack(sandbox, app, settings, header["id"], "30001")
    task = _task(client, auth, onward)
    assert (task["businessStatus"]["coding"][0]["code"], task["status"]) == ("filed", "completed")


def test_a_negative_business_ack_through_mesh_fails_the_referral_with_the_reason(
    app: Flask, client: FlaskClient, auth: dict, settings: Settings, sandbox: MeshSandbox
) -> None:
    onward = _refer(client, auth)
    _deliver(app, settings)
    _, message = _practice_takes_one(sandbox)

    _ack(sandbox, app, settings, message["entry"][0]["resource"]["id"], "30002")
    task = _task(client, auth, onward)
    assert task["businessStatus"]["coding"][0]["code"] == "failed"
    assert task["statusReason"]["text"] == "ITK3 response 30002: Patient not known here"
    now = client.get(f"/api/onward-referrals/{onward['id']}", headers=auth).get_json()
    assert now["status"] == "rejected"


def test_a_mesh_non_delivery_report_dead_letters_the_document_and_fails_the_task(
    app: Flask, client: FlaskClient, auth: dict, settings: Settings, sandbox: MeshSandbox
) -> None:
    """MESH reports, in our inbox, that the practice never collected it (code 14)."""
    onward = _refer(client, auth)
    _deliver(app, settings)
    _, message = _practice_takes_one(sandbox)
    ours = message["entry"][0]["resource"]["id"]  # its Mex-LocalID
    report = {
        "mailbox_id": OURS,
        "code": "14",
        "description": "Message not collected by recipient after 5 days",
        "workflow_id": "GPFED_CONSULT_REPORT",
        "local_id": ours,
    }
    with requests.Session() as http:
        http.trust_env = False
        answer = http.post(f"{sandbox.url}/messageexchange/admin/report", json=report, timeout=10)
    assert answer.status_code == 200, answer.text

    inbox = MeshInbox(app.extensions["ld_adapter"].store, settings)
    try:
        assert inbox.poll_once().counts == {"accepted": 1}
    finally:
        inbox.close()
    task = _task(client, auth, onward)
    assert (task["businessStatus"]["coding"][0]["code"], task["status"]) == (
        "dead-letter",
        "failed",
    )
    sent = client.get(f"/api/messages/{ours}", headers=auth).get_json()
    assert sent["status"] == "dead-letter"  # where operators look, and can replay it
    assert sent["last_error"] == (
        "MESH could not deliver it (report 14: Message not collected by recipient after 5 days)"
    )


def test_cancelling_after_the_practice_has_the_document_sends_no_bars_cancellation(
    app: Flask, client: FlaskClient, auth: dict, settings: Settings, sandbox: MeshSandbox
) -> None:
    onward = _refer(client, auth)
    _deliver(app, settings)
    cancelled = client.post(f"/api/onward-referrals/{onward['id']}/cancel", headers=auth)
    assert cancelled.status_code == 200, cancelled.get_json()
    assert [m["kind"] for m in cancelled.get_json()["messages"]] == ["onward-referral"]
    assert _deliver(app, settings) == 0
    workflow, _ = _practice_takes_one(sandbox)  # the document alone: GP Connect has no cancel
    assert workflow == "GPFED_CONSULT_REPORT"


def test_a_document_mesh_could_not_deliver_is_dead_lettered_and_its_task_failed(
    app: Flask, client: FlaskClient, auth: dict, settings: Settings, sandbox: MeshSandbox
) -> None:
    onward = _refer(client, auth)
    _deliver(app, settings)
    store = app.extensions["ld_adapter"].store
    with store.unit_of_work(read_only=True) as uow:
        (message,) = uow.outbox.for_onward_referral(onward["id"])
    # MESH took it for GPPROVIDER_…, then could not route it to a practice: a REPORT to us.
    mesh_report(sandbox, "GPFED_CONSULT_REPORT", message.id, code="12", mailbox=OURS)
    inbox = MeshInbox(store, settings)
    try:
        assert inbox.poll_once().counts == {"accepted": 1}
    finally:
        inbox.close()

    with store.unit_of_work(read_only=True) as uow:
        message = uow.outbox.get(message.id)
    assert message is not None and message.status == "dead-letter"
    assert message.last_error is not None and message.last_error.startswith(
        "MESH could not deliver it (report 12"
    )
    assert "GPPROVIDER" not in message.last_error and "9990012342" not in message.last_error
    task = _task(client, auth, onward)
    assert task["status"] == "failed"
    _practice_takes_one(sandbox)  # the sandbox did deliver it; leave the mailbox empty
