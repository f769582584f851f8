"""Messages dropped into our MESH mailbox (the real mesh-sandbox) become referrals exactly once."""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest
import sqlalchemy as sa
from prometheus_client import REGISTRY

from adapter.exchange import mesh_workflows
from adapter.exchange import worker as worker_module
from adapter.exchange.mesh_inbox import MeshInbox
from adapter.exchange.partners import load_partners
from adapter.exchange.refusal import refusal_message
from adapter.exchange.worker import DeliveryWorker
from adapter.services.mesh_receive import receive_fhir_message
from adapter.services.startup import load_service_directory
from adapter.settings import Settings
from adapter.store import ReferralFilters, Store
from adapter.store.tables import resource
from tests.integration.store_fixtures import *  # noqa: F403  (the store fixtures)
from tests.support import outbox
from tests.support.inbound import referral_message
from tests.support.mesh_partners import (
    MPFT_ENDPOINT,
    MPFT_MAILBOX,
    OUR_MAILBOX,
    drain,
    mesh_settings,
    workflow,
)
from tests.support.mesh_sandbox import MeshSandbox

FHIR_JSON = "application/fhir+json"


@pytest.fixture
def settings(tmp_path: Path, mesh_sandbox: MeshSandbox, database_url: str) -> Settings:
    drain(mesh_sandbox, OUR_MAILBOX, MPFT_MAILBOX)
    return mesh_settings(tmp_path, mesh_sandbox, database_url)


@pytest.fixture
def ready_store(store: Store, settings: Settings) -> Store:
    """The store with the service directory and the partners (MPFT's L&D on MESH) loaded."""
    load_partners(store, settings, load_service_directory(store, settings))
    return store


@pytest.fixture
def inbox(ready_store: Store, settings: Settings):  # type: ignore[no-untyped-def]
    inbox = MeshInbox(ready_store, settings)
    yield inbox
    inbox.close()


def send(sandbox: MeshSandbox, body: bytes, local_id: str | None = None, **headers: str) -> str:
    """MPFT sends a message to our mailbox; its MESH message id."""
    with sandbox.client(MPFT_MAILBOX) as mpft:
        return str(
            mpft.send_message(
                OUR_MAILBOX,
                body,
                workflow_id=headers.pop("workflow_id", workflow()),
                local_id=local_id or str(uuid.uuid4()),
                subject=str(uuid.uuid4()),
                content_type=FHIR_JSON,
                **headers,
            )
        )


def referrals(store: Store) -> int:
    with store.unit_of_work(read_only=True) as uow:
        return uow.referrals.list(ReferralFilters(), 10, 0)[1]


def audited_message_ids(store: Store) -> dict[str, str]:
    """MESH message id → the outcome of its AuditEvent."""
    with store.engine.connect() as connection:
        rows = connection.execute(
            sa.select(resource.c.content).where(resource.c.resource_type == "AuditEvent")
        )
        events = [orjson.loads(row.content) for row in rows]
    found = {}
    for event in events:
        for entity in event.get("entity", []):
            identifier = entity.get("what", {}).get("identifier", {})
            if identifier.get("system", "").endswith("/mesh-message-id"):
                found[identifier["value"]] = event["outcome"]
    return found


def test_a_referral_in_our_mailbox_becomes_one_referral_and_is_acknowledged(
    mesh_sandbox, inbox, ready_store
) -> None:  # type: ignore[no-untyped-def]
    local_id = str(uuid.uuid4())
    body = orjson.dumps(referral_message())
    first = send(mesh_sandbox, body, local_id)
    again = send(mesh_sandbox, body, local_id)  # the sender's retry: same Mex-LocalID

    result = inbox.poll_once()

    assert result.counts == {"accepted": 1, "duplicate": 1}
    assert referrals(ready_store) == 1
    assert mesh_sandbox.inbox(OUR_MAILBOX) == []  # both acknowledged
    with ready_store.unit_of_work(read_only=True) as uow:
        received = uow.inbound.get_by_request_id(local_id)
    assert received is not None and received.partner_service == "mpft-ld-home-area"
    assert received.referral_id is not None
    audited = audited_message_ids(ready_store)
    assert audited[first] == "0" and audited[again] == "4"  # the duplicate: a minor failure


def test_bad_and_unknown_messages_are_recorded_audited_and_acknowledged(
    mesh_sandbox, inbox, ready_store
) -> None:  # type: ignore[no-untyped-def]
    not_json = send(mesh_sandbox, b"{not json")
    no_guid = send(mesh_sandbox, orjson.dumps(referral_message()), local_id="ref-1")
    not_ours = send(mesh_sandbox, b"%PDF-1.4", workflow_id="SOME_OTHER_WORKFLOW")

    result = inbox.poll_once()

    assert result.counts == {"refused": 2, "unhandled": 1}
    assert referrals(ready_store) == 0
    assert mesh_sandbox.inbox(OUR_MAILBOX) == []  # none is read again and again
    audited = audited_message_ids(ready_store)
    assert {audited[not_json], audited[no_guid], audited[not_ours]} == {"4"}


def test_a_message_from_a_mailbox_that_is_no_partner_is_refused(
    mesh_sandbox, inbox, ready_store
) -> None:  # type: ignore[no-untyped-def]
    with mesh_sandbox.client("X26ABC3") as stranger:
        stranger.send_message(
            OUR_MAILBOX,
            orjson.dumps(referral_message()),
            workflow_id=workflow(),
            local_id=str(uuid.uuid4()),
        )
    assert inbox.poll_once().counts == {"refused": 1}
    assert referrals(ready_store) == 0


def test_a_failure_that_may_pass_leaves_the_message_for_the_next_poll(
    mesh_sandbox, inbox, ready_store
) -> None:  # type: ignore[no-untyped-def]
    send(mesh_sandbox, orjson.dumps(referral_message()))
    calls = []

    def database_down_once(store, settings, inbound):  # type: ignore[no-untyped-def]
        calls.append(inbound.message_id)
        if len(calls) == 1:
            raise sa.exc.OperationalError("SELECT 1", {}, Exception("connection refused"))
        receive_fhir_message(store, settings, inbound)

    mesh_workflows.HANDLERS[workflow()] = database_down_once
    try:
        assert inbox.poll_once().counts == {"left": 1}
        assert len(mesh_sandbox.inbox(OUR_MAILBOX)) == 1  # not acknowledged
        assert inbox.poll_once().counts == {"accepted": 1}
    finally:
        del mesh_workflows.HANDLERS[workflow()]
    assert referrals(ready_store) == 1
    assert mesh_sandbox.inbox(OUR_MAILBOX) == []


def test_a_lost_acknowledgement_means_a_duplicate_not_a_second_referral(
    mesh_sandbox, inbox, ready_store
) -> None:  # type: ignore[no-untyped-def]
    """The sandbox stops after the referral is committed, before MESH hears the ack."""
    send(mesh_sandbox, orjson.dumps(referral_message()))

    def commit_then_sandbox_restarts(store, settings, inbound):  # type: ignore[no-untyped-def]
        receive_fhir_message(store, settings, inbound)
        mesh_sandbox.stop()

    mesh_workflows.HANDLERS[workflow()] = commit_then_sandbox_restarts
    try:
        assert inbox.poll_once().counts == {"accepted": 1}
    finally:
        del mesh_workflows.HANDLERS[workflow()]
    mesh_sandbox.start()  # the same store: the message is still in our inbox
    assert len(mesh_sandbox.inbox(OUR_MAILBOX)) == 1

    assert inbox.poll_once().counts == {"duplicate": 1}
    assert referrals(ready_store) == 1
    assert mesh_sandbox.inbox(OUR_MAILBOX) == []


def test_the_mesh_referral_is_the_same_as_one_received_over_http(
    mesh_sandbox, inbox, ready_store
) -> None:  # type: ignore[no-untyped-def]
    """Same receiver: a message addressed to someone else is refused as $process-message would."""
    message = referral_message()
    header = message["entry"][0]["resource"]
    header["destination"] = [{"endpoint": "https://elsewhere.example.org/fhir"}]
    send(mesh_sandbox, json.dumps(message).encode())
    assert inbox.poll_once().counts == {"refused": 1}
    assert referrals(ready_store) == 0


@pytest.mark.parametrize("mailbox", [OUR_MAILBOX, OUR_MAILBOX.lower()])
def test_a_message_addressed_to_our_mailbox_is_addressed_to_us(
    mesh_sandbox, inbox, ready_store, mailbox: str
) -> None:  # type: ignore[no-untyped-def]
    """Over MESH our mailbox id is our endpoint: a destination naming it (no receiver) is us."""
    message = referral_message()
    message["entry"][0]["resource"]["destination"] = [{"endpoint": mailbox}]
    send(mesh_sandbox, json.dumps(message).encode())
    assert inbox.poll_once().counts == {"accepted": 1}
    assert referrals(ready_store) == 1


def _born_in_2099(message: dict) -> dict:
    for entry in message["entry"]:
        if entry["resource"]["resourceType"] == "Patient":
            entry["resource"]["birthDate"] = "2099-01-01"
    return message


def _deliver(store: Store, settings: Settings) -> int:
    worker = DeliveryWorker(store, settings)
    try:
        return worker.run_once()
    finally:
        worker.close()


def _mpft_inbox(sandbox: MeshSandbox) -> list[tuple[str | None, dict]]:
    with sandbox.client(MPFT_MAILBOX) as mpft:
        found = []
        for message_id in mpft.list_messages():
            message = mpft.retrieve_message(message_id)
            found.append((message.workflow_id, json.loads(message.read())))
            message.acknowledge()
        return found


def test_a_message_refused_over_mesh_is_answered_to_its_sender_with_the_reasons(
    mesh_sandbox, inbox, ready_store, settings
) -> None:  # type: ignore[no-untyped-def]
    """As $process-message answers with an OperationOutcome: a FHIR fatal-error response back."""
    message = _born_in_2099(referral_message())
    send(mesh_sandbox, json.dumps(message).encode())
    assert inbox.poll_once().counts == {"refused": 1}
    assert referrals(ready_store) == 0
    assert _deliver(ready_store, settings) == 1

    ((workflow_id, answer),) = _mpft_inbox(mesh_sandbox)
    assert workflow_id == workflow()
    assert answer["type"] == "message"
    header = answer["entry"][0]["resource"]
    assert header["response"]["identifier"] == message["id"]
    assert header["response"]["code"] == "fatal-error"
    assert header["destination"] == [{"endpoint": MPFT_MAILBOX}]
    assert header["source"]["endpoint"] == OUR_MAILBOX
    outcome = answer["entry"][1]["resource"]
    assert header["response"]["details"]["reference"] == answer["entry"][1]["fullUrl"]
    assert outcome["resourceType"] == "OperationOutcome"
    # The issues $process-message would have answered with, the field named.
    at = [e["resource"]["resourceType"] for e in message["entry"]].index("Patient")
    assert [i["expression"] for i in outcome["issue"]] == [
        [f"Bundle.entry[{at}].resource.birthDate"]
    ]
    assert outcome["issue"][0]["code"] == "business-rule"


def test_an_error_response_refused_is_never_answered(
    mesh_sandbox, inbox, ready_store, settings
) -> None:  # type: ignore[no-untyped-def]
    """Two adapters refusing each other's answers must not ping-pong."""
    message = _born_in_2099(referral_message())
    message["entry"][0]["resource"]["response"] = {
        "identifier": str(uuid.uuid4()),
        "code": "fatal-error",
    }
    send(mesh_sandbox, json.dumps(message).encode())
    assert inbox.poll_once().counts == {"refused": 1}
    assert _deliver(ready_store, settings) == 0
    assert _mpft_inbox(mesh_sandbox) == []


@pytest.mark.parametrize("stray", [None, "not an entry"])
def test_a_partners_refusal_of_our_message_dead_letters_it_with_their_outcome(
    mesh_sandbox, inbox, ready_store, settings, stray
) -> None:  # type: ignore[no-untyped-def]
    """The other side of the answer above: we sent it, MESH took it, the partner refused it.

    A stray entry that is no object does not leave the answer to be read at every poll.
    """
    with ready_store.unit_of_work() as uow:
        ours = uow.outbox.add(
            outbox.message(endpoint_id=MPFT_ENDPOINT, transport="mesh", headers={})
        )
    assert _deliver(ready_store, settings) == 1
    drain(mesh_sandbox, MPFT_MAILBOX)
    outcome = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": "business-rule", "diagnostics": "no"}],
    }
    answer = refusal_message(
        str(uuid.uuid4()), ours.body, ours.id, outcome, (MPFT_MAILBOX, OUR_MAILBOX)
    )
    if stray is not None:
        answer["entry"].insert(1, stray)
    send(mesh_sandbox, json.dumps(answer).encode())
    assert inbox.poll_once().counts == {"accepted": 1}

    with ready_store.unit_of_work(read_only=True) as uow:
        now = uow.outbox.get(ours.id)
    assert now is not None and now.status == "dead-letter"
    assert now.last_error == "the partner refused it (MESH): business-rule"
    assert now.partner_outcome is not None
    assert now.partner_outcome["issue"][0]["code"] == "business-rule"
    assert _deliver(ready_store, settings) == 0  # nothing answers an answer
    assert mesh_sandbox.inbox(MPFT_MAILBOX) == []


def test_a_wrong_password_reads_nothing_and_loses_nothing(
    mesh_sandbox, ready_store, settings, caplog
) -> None:  # type: ignore[no-untyped-def]
    send(mesh_sandbox, orjson.dumps(referral_message()))
    wrong = MeshInbox(ready_store, replace(settings, mesh_password="not-the-password"))
    try:
        with caplog.at_level(logging.WARNING, logger="adapter.exchange.mesh_inbox"):
            assert wrong.poll_once().counts == {}
    finally:
        wrong.close()
    assert "MESH inbox: listing failed: HTTP 403" in caplog.text
    assert "not-the-password" not in caplog.text
    assert len(mesh_sandbox.inbox(OUR_MAILBOX)) == 1  # still there for the right password
    assert referrals(ready_store) == 0


def _inbound_counted(outcome: str, reason: str) -> float:
    labels = {"outcome": outcome, "reason": reason}
    return REGISTRY.get_sample_value("ld_adapter_inbound_messages_total", labels) or 0


def test_mesh_messages_are_counted_as_http_ones_are_for_the_console_and_metrics(
    mesh_sandbox, inbox, ready_store
) -> None:  # type: ignore[no-untyped-def]
    elsewhere = referral_message()
    elsewhere["entry"][0]["resource"]["destination"] = [{"endpoint": "https://elsewhere.test/"}]
    counters = [("accepted", "none"), ("rejected", "structure"), ("rejected", "processing")]
    before = {counter: _inbound_counted(*counter) for counter in counters}
    since = datetime.now(UTC) - timedelta(minutes=1)
    send(mesh_sandbox, orjson.dumps(referral_message()))
    send(mesh_sandbox, b"{not json")
    send(mesh_sandbox, orjson.dumps(elsewhere))

    assert inbox.poll_once().counts == {"accepted": 1, "refused": 2}

    with ready_store.unit_of_work(read_only=True) as uow:
        assert uow.console.inbound_counts(since) == (1, 2)  # the console overview's figures
    counted = {counter: _inbound_counted(*counter) - before[counter] for counter in counters}
    assert counted == {counter: 1 for counter in counters}


def test_a_long_inbox_is_taken_in_slices_between_deliveries(
    mesh_sandbox, ready_store, settings, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """A poll ends when its slice of time is up; the worker polls again at its next turn."""
    for _ in range(3):
        send(mesh_sandbox, orjson.dumps(referral_message()))
    delivery = DeliveryWorker(ready_store, settings, {})
    try:
        monkeypatch.setattr(worker_module, "INBOX_SLICE_SECONDS", 0.0)  # up before the first
        assert delivery.poll_inbox_if_due() == 0
        assert len(mesh_sandbox.inbox(OUR_MAILBOX)) == 3
        monkeypatch.setattr(worker_module, "INBOX_SLICE_SECONDS", 60.0)
        # due at once, not a whole LD_ADAPTER_MESH_POLL_INTERVAL later
        assert delivery.poll_inbox_if_due() == 3
    finally:
        delivery.close()


def test_a_poll_stops_between_messages_when_told(mesh_sandbox, inbox, ready_store) -> None:  # type: ignore[no-untyped-def]
    for _ in range(3):
        send(mesh_sandbox, orjson.dumps(referral_message()))
    asked = []

    def one_more() -> bool:
        asked.append(True)
        return len(asked) <= 1

    result = inbox.poll_once(one_more)

    assert (result.counts, result.cut_short) == ({"accepted": 1}, True)
    assert len(mesh_sandbox.inbox(OUR_MAILBOX)) == 2  # the rest wait for the next poll
    assert inbox.poll_once().taken == 2
