"""A partner's servicerequest-response through POST /fhir/$process-message, as it arrives."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
from flask import Flask
from flask.testing import FlaskClient

from adapter import create_app
from adapter.auth import mint_dev_token
from adapter.exchange.message import Sender
from adapter.exchange.partners import partner_for_service
from adapter.exchange.response import Answer, response_message
from adapter.services.onward_messages import sender
from adapter.settings import Settings
from tests.conftest import RecordingClient
from tests.integration.store_fixtures import database_url, postgres_url  # noqa: F401 - fixtures
from tests.support.inbound import message_headers, partners_with_clients

ROOT = Path(__file__).resolve().parents[2]
REFERRALS = ROOT / "fixtures" / "native" / "referrals"
URL = "/fhir/$process-message"
GP, GP_ORG, GP_CLIENT = "example-medical-practice-gp", "example-medical-practice", "gp-system"
PRACTITIONER = {"name": "Alex Morgan"}


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:  # noqa: F811
    clients = {GP_ORG: GP_CLIENT, "example-council": "council-case-system"}
    return Settings(
        home=tmp_path,
        base_url="http://testserver",
        database_url=database_url,
        partners_path=partners_with_clients(tmp_path, clients),
        delivery_in_process=False,
    )


@pytest.fixture
def app(settings: Settings) -> Iterator[Flask]:
    application = create_app(settings)
    application.test_client_class = RecordingClient
    yield application
    application.extensions["ld_adapter"].store.dispose()


def _sent_onward_referral(client: FlaskClient, auth: dict) -> tuple[dict, dict]:
    """An onward referral to the GP and the message Bundle queued for it."""
    payload = json.loads((REFERRALS / "adult-custody-telford.json").read_text(encoding="utf-8"))
    referral = client.post("/api/referrals", json=payload, headers=auth).get_json()
    body = {"pathway": "gp", "to": GP, "referred_by": PRACTITIONER}
    onward = client.post(
        f"/api/referrals/{referral['id']}/onward-referrals", json=body, headers=auth
    ).get_json()
    message_id = onward["delivery"]["message_id"]
    read = client.get(f"/api/messages/{message_id}?include=body", headers=auth).get_json()
    return onward, read["body"]


def _gp_response(
    app: Flask, sent: dict, code: str, reason: str | None = None, by: str = GP
) -> dict:
    """What the GP's system (or `by`) sends back: a servicerequest-response naming our message."""
    context = app.extensions["ld_adapter"]
    with context.store.unit_of_work(read_only=True) as uow:
        gp = partner_for_service(uow, by)
    assert gp is not None
    us = SimpleNamespace(
        organization=sender(context.settings, context.directory).organization,
        service={},
        endpoint={},
    )
    them = Sender(gp.organization, gp.endpoint["address"], "https://gp.example/fhir")
    answer = Answer(code, reason, datetime.now(UTC), str(uuid.uuid4()))
    reply_to = context.settings.source_endpoint
    return response_message(str(uuid.uuid4()), answer, sent, us, them, reply_to)


def _token(settings: Settings, client: str = GP_CLIENT) -> str:
    return mint_dev_token(settings, ["system/Bundle.c"], subject=client)


def test_the_partners_responses_arrive_and_show_on_the_onward_referral(
    app: Flask, client: FlaskClient, auth: dict, settings: Settings
) -> None:
    onward, sent = _sent_onward_referral(client, auth)
    accepted = _gp_response(app, sent, "accepted")
    answered = client.post(URL, json=accepted, headers=message_headers(_token(settings)))
    assert answered.status_code == 200, answered.get_json()
    rejected = _gp_response(app, sent, "rejected", "23")
    headers = message_headers(_token(settings))
    assert client.post(URL, json=rejected, headers=headers).status_code == 200
    again = client.post(URL, json=rejected, headers=headers)
    assert again.status_code == 409
    assert again.get_json()["issue"][0]["code"] == "duplicate"

    now = client.get(f"/api/onward-referrals/{onward['id']}", headers=auth).get_json()
    assert [o["status"] for o in now["outcomes"]] == ["accepted", "rejected"]
    assert now["outcome"]["reason"] == "23"
    assert now["status"] == "rejected"
    with app.extensions["ld_adapter"].store.unit_of_work(read_only=True) as uow:
        rows = uow.inbound.for_onward_referral(onward["id"])
    assert [r.event for r in rows] == ["servicerequest-response"] * 2


def test_a_response_naming_a_message_we_never_sent_is_404(
    app: Flask, client: FlaskClient, auth: dict, settings: Settings
) -> None:
    _, sent = _sent_onward_referral(client, auth)
    response = _gp_response(app, sent, "accepted")
    response["entry"][0]["resource"]["response"]["identifier"] = str(uuid.uuid4())
    refused = client.post(URL, json=response, headers=message_headers(_token(settings)))
    assert refused.status_code == 404
    assert refused.get_json()["issue"][0]["details"]["coding"][0]["code"] == "REC_NOT_FOUND"


def test_another_partner_cannot_answer_the_gps_referral(
    app: Flask, client: FlaskClient, auth: dict, settings: Settings
) -> None:
    onward, sent = _sent_onward_referral(client, auth)
    response = _gp_response(app, sent, "rejected", "24", by="example-council-adult-safeguarding")
    token = _token(settings, "council-case-system")
    refused = client.post(URL, json=response, headers=message_headers(token))
    assert refused.status_code == 404, refused.get_json()
    now = client.get(f"/api/onward-referrals/{onward['id']}", headers=auth).get_json()
    assert now["outcomes"] == []
