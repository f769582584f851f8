"""The transport against a real FHIR messaging partner on 127.0.0.1 that fails when told."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from adapter.exchange.http_transport import FhirMessagingTransport
from adapter.exchange.model import Delivered, OutboundMessage, Rejected, TryAgain
from adapter.settings import Settings
from tests.support.partner_server import PartnerServer, operation_outcome


def message(**changes: str) -> OutboundMessage:
    fields = {
        "id": str(uuid.uuid4()),
        "request_id": str(uuid.uuid4()),
        "correlation_id": str(uuid.uuid4()),
        "endpoint_id": "partner",
        "transport": "fhir-messaging",
        "ordering_key": "partner|person",
        "kind": "onward-referral",
        **changes,
    }
    bundle = {"resourceType": "Bundle", "id": fields["id"], "type": "message", "entry": []}
    return OutboundMessage(body=bundle, headers={"NHSD-End-User-Organisation": "e30="}, **fields)


@pytest.fixture
def partner() -> Iterator[PartnerServer]:
    with PartnerServer() as server:
        yield server


@pytest.fixture
def transport(tmp_path: Path) -> Iterator[FhirMessagingTransport]:
    sender = FhirMessagingTransport(Settings(home=tmp_path, delivery_timeout=0.5))
    yield sender
    sender.close()


def endpoint(partner: PartnerServer) -> dict:
    return {"resourceType": "Endpoint", "id": "partner", "address": partner.base}


def test_a_message_arrives_with_its_headers(partner, transport) -> None:
    sent = message()
    result = transport.send(sent, endpoint(partner))
    assert isinstance(result, Delivered) and result.status_code == 200
    (received,) = partner.received
    assert (received.request_id, received.correlation_id) == (sent.request_id, sent.correlation_id)
    assert received.headers["NHSD-End-User-Organisation"] == "e30="
    assert received.headers["Content-Type"] == "application/fhir+json"
    assert received.bundle == sent.body


def test_503_with_retry_after_then_the_same_message_is_accepted_once(partner, transport) -> None:
    partner.fail(503, times=1, retry_after=2)
    sent = message()
    assert transport.send(sent, endpoint(partner)) == TryAgain("HTTP 503", 503, 2.0)
    assert isinstance(transport.send(sent, endpoint(partner)), Delivered)
    assert partner.requests_by_id()[sent.request_id] == 2
    assert partner.accepted_request_ids()[sent.request_id] == 1


def test_429_is_tried_again_after_the_partners_wait(partner, transport) -> None:
    partner.fail(429, retry_after=30)
    assert transport.send(message(), endpoint(partner)) == TryAgain("HTTP 429", 429, 30.0)


def test_a_resend_the_partner_already_accepted_counts_as_delivered(partner, transport) -> None:
    sent = message()
    assert transport.send(sent, endpoint(partner)).status_code == 200  # type: ignore[union-attr]
    again = transport.send(sent, endpoint(partner))
    assert isinstance(again, Delivered) and again.status_code == 409
    assert partner.accepted_request_ids()[sent.request_id] == 1


def test_a_slow_partner_times_out(partner, transport) -> None:
    partner.stall(2.0)
    started = time.monotonic()
    assert transport.send(message(), endpoint(partner)) == TryAgain("no answer within 0.5 s")
    assert time.monotonic() - started < 1.5


def test_a_partner_that_is_down_then_up(partner, transport) -> None:
    sent = message()
    partner.stop()
    assert transport.send(sent, endpoint(partner)) == TryAgain("connection failed")
    partner.start()
    assert isinstance(transport.send(sent, endpoint(partner)), Delivered)
    assert partner.accepted_request_ids()[sent.request_id] == 1


def test_a_400_operation_outcome_is_kept_on_rejection(partner, transport) -> None:
    refusal = operation_outcome("business-rule", "the person is not known here")
    partner.fail(400, outcome=refusal)
    result = transport.send(message(), endpoint(partner))
    assert result == Rejected("HTTP 400: business-rule", 400, refusal)
    assert "person" not in result.reason  # type: ignore[union-attr]


def test_a_request_id_that_is_not_a_guid_is_rejected(partner, transport) -> None:
    result = transport.send(message(request_id="not-a-guid"), endpoint(partner))
    assert isinstance(result, Rejected) and result.status_code == 400
    assert result.outcome is not None and result.outcome["issue"][0]["code"] == "value"


def test_a_kept_alive_session_sends_hundreds_a_second(partner, transport) -> None:
    started = time.monotonic()
    results = [transport.send(message(), endpoint(partner)) for _ in range(200)]
    elapsed = time.monotonic() - started
    assert all(isinstance(r, Delivered) for r in results)
    # One thread, one connection: the drain target (200/s with 2 workers) needs well under 10 ms.
    assert elapsed < 2.0, f"200 sends took {elapsed:.2f} s"


def test_a_token_http_cannot_carry_is_rejected_without_showing_it(partner, transport, monkeypatch):
    monkeypatch.setenv("PARTNER_TOKEN", "tok€n")
    auth = "https://ld-adapter.github.io/fhir/StructureDefinition/ld-endpoint-auth"
    target = endpoint(partner)
    target["extension"] = [
        {
            "url": auth,
            "extension": [
                {"url": "type", "valueCode": "bearer"},
                {"url": "token-env", "valueString": "PARTNER_TOKEN"},
            ],
        }
    ]
    assert transport.send(message(), target) == Rejected("request failed: UnicodeEncodeError")
    assert partner.received == []
