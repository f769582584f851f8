"""The MESH transport against a mocked MESH (`responses`): the envelope, and what answers mean."""

from __future__ import annotations

import json
import logging
import uuid
from pathlib import Path

import pytest
import requests
import responses

from adapter.exchange.mesh_transport import MeshTransport, mesh_envelope
from adapter.exchange.model import Delivered, OutboundMessage, Rejected, TryAgain
from adapter.settings import Settings

MESH = "https://mesh.example.nhs.uk"
OUTBOX = f"{MESH}/messageexchange/X26ABC1/outbox"
ENDPOINT = {"address": "X26ABC2", "header": ["Mex-WorkflowID: LD_FHIR_MESSAGE"]}
GP_ADDRESS = "GPPROVIDER_9990012342_01011980_EXAMPLE"  # a GP Connect Mex-To: patient data


def message(**headers: str) -> OutboundMessage:
    return OutboundMessage(
        id=str(uuid.uuid4()),
        request_id=str(uuid.uuid4()),
        correlation_id=str(uuid.uuid4()),
        endpoint_id="partner-endpoint",
        transport="mesh",
        ordering_key="partner|patient",
        kind="onward-referral",
        body={"resourceType": "Bundle", "type": "message", "entry": []},
        headers=dict(headers),
    )


@pytest.fixture
def transport(tmp_path: Path):  # type: ignore[no-untyped-def]
    settings = Settings(
        home=tmp_path,
        mesh_url=MESH,
        mesh_mailbox="X26ABC1",
        mesh_password="secret-password",
        mesh_shared_key="secret-key",
    )
    sending = MeshTransport(settings)
    yield sending
    sending.close()


def test_the_envelope_defaults_to_the_endpoint_and_the_message() -> None:
    sent = message()
    assert mesh_envelope(sent, ENDPOINT) == {
        "Mex-To": "X26ABC2",
        "Mex-WorkflowID": "LD_FHIR_MESSAGE",
        "Mex-LocalID": sent.request_id,
        "Mex-Subject": sent.correlation_id,
    }


def test_the_messages_own_envelope_wins() -> None:
    sent = message(**{"Mex-To": GP_ADDRESS, "Mex-WorkflowID": "GPFED_CONSULT_REPORT"})
    envelope = mesh_envelope(sent, ENDPOINT)
    assert (envelope["Mex-To"], envelope["Mex-WorkflowID"]) == (GP_ADDRESS, "GPFED_CONSULT_REPORT")


@responses.activate
def test_an_accepted_message_is_delivered_with_its_envelope_and_body(transport, caplog) -> None:  # type: ignore[no-untyped-def]
    responses.post(OUTBOX, status=202, json={"message_id": "20261201ABC"})
    sent = message()
    with caplog.at_level(logging.INFO, logger="adapter.exchange.mesh_transport"):
        assert transport.send(sent, ENDPOINT) == Delivered(202)
    assert f"message {sent.id} is MESH message 20261201ABC" in caplog.text
    request = responses.calls[0].request
    assert request.headers["Mex-To"] == "X26ABC2"
    assert request.headers["Mex-WorkflowID"] == "LD_FHIR_MESSAGE"
    assert request.headers["Mex-LocalID"] == sent.request_id
    assert request.headers["Content-Type"] == "application/fhir+json"
    assert json.loads(request.body) == sent.body
    assert "secret-password" not in str(request.headers)  # MESH gets a signed token, not it


@pytest.mark.parametrize("status", [401, 403])
@responses.activate
def test_refused_credentials_are_tried_again_with_a_fixed_reason(transport, status: int) -> None:  # type: ignore[no-untyped-def]
    responses.post(
        OUTBOX, status=status, json={"detail": [{"msg": "Invalid Authentication Token"}]}
    )
    result = transport.send(message(), ENDPOINT)
    assert isinstance(result, TryAgain) and result.status_code == status
    assert "credentials" in result.reason and "secret" not in result.reason


@pytest.mark.parametrize("status", [429, 500, 503])
@responses.activate
def test_mesh_trouble_is_tried_again(transport, status: int) -> None:  # type: ignore[no-untyped-def]
    responses.post(OUTBOX, status=status, body="<soap:Fault/>")
    assert transport.send(message(), ENDPOINT) == TryAgain(f"MESH HTTP {status}", status)


@responses.activate
def test_no_connection_is_tried_again(transport) -> None:  # type: ignore[no-untyped-def]
    responses.post(OUTBOX, body=requests.ConnectionError("refused"))
    assert transport.send(message(), ENDPOINT) == TryAgain("MESH connection failed")


@responses.activate
def test_a_refused_recipient_is_rejected_without_its_address(transport) -> None:  # type: ignore[no-untyped-def]
    error = {"detail": [{"event": "SEND", "code": "12", "msg": f"Unregistered {GP_ADDRESS}"}]}
    responses.post(OUTBOX, status=417, json=error)
    result = transport.send(message(**{"Mex-To": GP_ADDRESS}), ENDPOINT)
    assert result == Rejected("MESH HTTP 417: SEND 12", 417)  # the text quoting it is left out


def test_an_endpoint_without_a_workflow_is_a_configuration_error(transport) -> None:  # type: ignore[no-untyped-def]
    result = transport.send(message(), {"address": "X26ABC2"})
    assert result == Rejected("configuration: no Mex-WorkflowID for this message")


@responses.activate
def test_a_header_mesh_cannot_carry_is_rejected_at_once_naming_it(transport) -> None:  # type: ignore[no-untyped-def]
    # Queued before envelopes were folded to ASCII: retrying would never send it (HTTP headers
    # are Latin-1 in requests, ASCII in MESH), so it is dead-lettered, no request made.
    result = transport.send(message(**{"Mex-Subject": "Report for Łukasz Wróblewski"}), ENDPOINT)
    assert result == Rejected("the MESH envelope must be ASCII: Mex-Subject")
    assert len(responses.calls) == 0


def test_without_mesh_settings_messages_wait(tmp_path: Path) -> None:
    result = MeshTransport(Settings(home=tmp_path)).send(message(), ENDPOINT)
    assert isinstance(result, TryAgain) and "LD_ADAPTER_MESH_URL" in result.reason


def test_an_envelope_that_is_not_ascii_is_rejected_at_once_not_retried(transport) -> None:  # type: ignore[no-untyped-def]
    result = transport.send(message(**{"Mex-Subject": "Report for Łukasz"}), ENDPOINT)
    assert result == Rejected("the MESH envelope must be ASCII: Mex-Subject")  # no name in it
