"""MESH non-delivery reports: a message MESH could not deliver is dead-lettered, its Task failed.

MESH tells a sender it could not deliver a message (expired uncollected after 5 days, unknown
recipient after routing …) with a REPORT message in the sender's inbox: Mex-MessageType REPORT,
Mex-StatusSuccess ERROR, Mex-StatusCode, Mex-LocalID (the sender's id of the message) and
Mex-LinkedMsgID (MESH's). mesh-sandbox's admin endpoint puts one there, as MESH would.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient

from adapter.exchange.mesh_inbox import MeshInbox, PollResult
from adapter.settings import Settings
from tests.integration.store_fixtures import database_url, postgres_url  # noqa: F401 - fixtures
from tests.integration.test_mesh_send import GP_ENDPOINT, deliver, outbox_message, refer_to_gp
from tests.support.mesh_partners import MPFT_MAILBOX, OUR_MAILBOX, drain, partners_over_mesh
from tests.support.mesh_sandbox import PASSWORD, MeshSandbox

GP_MAILBOX = "X26ABC3"


@pytest.fixture
def settings(tmp_path: Path, mesh_sandbox: MeshSandbox, database_url: str) -> Settings:  # noqa: F811
    """BaRS messages over MESH to the GP practice's mailbox; tests deliver and poll."""
    drain(mesh_sandbox, OUR_MAILBOX, MPFT_MAILBOX, GP_MAILBOX)
    return Settings(
        home=tmp_path,
        base_url="http://testserver",
        database_url=database_url,
        partners_path=partners_over_mesh(tmp_path, {GP_ENDPOINT: GP_MAILBOX}),
        delivery_in_process=False,
        mesh_url=mesh_sandbox.url,
        mesh_mailbox=OUR_MAILBOX,
        mesh_password=PASSWORD,
        mesh_shared_key=mesh_sandbox.shared_key,
        mesh_poll=False,
    )


def mesh_report(
    sandbox: MeshSandbox, workflow: str, local_id: str, code: str = "14", mailbox: str = OUR_MAILBOX
) -> None:
    """MESH's non-delivery report of one of our messages, in our inbox."""
    body = {
        "mailbox_id": mailbox,
        "code": code,
        "description": "Message not collected by recipient after 5 days",
        "workflow_id": workflow,
        "local_id": local_id,
        "linked_message_id": uuid.uuid4().hex.upper(),
        "status": "error",
    }
    answer = requests.post(f"{sandbox.url}/messageexchange/admin/report", json=body, timeout=10)
    assert answer.status_code == 200, answer.text


def _poll(app: Flask, settings: Settings) -> PollResult:
    inbox = MeshInbox(app.extensions["ld_adapter"].store, settings)
    try:
        return inbox.poll_once()
    finally:
        inbox.close()


def _task(client: FlaskClient, auth: dict, onward: dict) -> dict:
    return client.get(f"/fhir/{onward['fhir']['task']}", headers=auth).get_json()


def test_a_bars_message_mesh_could_not_deliver_is_dead_lettered_and_its_task_failed(
    app: Flask, client: FlaskClient, auth: dict, settings: Settings, mesh_sandbox: MeshSandbox
) -> None:
    onward = refer_to_gp(client, auth)
    assert deliver(app) == 1
    message = outbox_message(app, onward)
    assert message.status == "delivered"

    mesh_report(mesh_sandbox, "LD_FHIR_MESSAGE", message.request_id)
    assert _poll(app, settings).counts == {"accepted": 1}

    message = outbox_message(app, onward)
    assert message.status == "dead-letter"
    assert message.last_error == (
        "MESH could not deliver it (report 14: Message not collected by recipient after 5 days)"
    )
    task = _task(client, auth, onward)
    assert (task["status"], task["businessStatus"]["coding"][0]["code"]) == (
        "failed",
        "dead-letter",
    )
    replayed = client.post(f"/api/messages/{message.id}/replay", headers=auth)
    assert replayed.status_code == 200, replayed.get_json()
    assert _poll(app, settings).taken == 0  # it was acknowledged: MESH does not give it again


def test_a_report_for_no_message_of_ours_is_refused_and_acknowledged(
    app: Flask, settings: Settings, mesh_sandbox: MeshSandbox
) -> None:
    mesh_report(mesh_sandbox, "LD_FHIR_MESSAGE", str(uuid.uuid4()))
    assert _poll(app, settings).counts == {"refused": 1}
    assert _poll(app, settings).taken == 0
