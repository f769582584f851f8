"""DeliveryWorker on SQLite and PostgreSQL with a scripted transport: results, retries, order."""

from __future__ import annotations

import random
import threading
from datetime import timedelta

import orjson
import pytest
import sqlalchemy as sa

from adapter.errors import Issue, PreconditionFailed
from adapter.exchange.model import (
    DEAD_LETTER,
    DELIVERED,
    QUEUED,
    RETRYING,
    Delivered,
    OutboundMessage,
    Rejected,
    TryAgain,
)
from adapter.exchange.worker import DeliveryWorker
from adapter.settings import Settings
from adapter.store import Store
from adapter.store.tables import resource
from tests.integration.store_fixtures import *  # noqa: F403  (the store fixtures)
from tests.support.delivery import Clock, ScriptedTransport
from tests.support.outbox import endpoint, message

OUTCOME = {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "invalid"}]}


@pytest.fixture
def settings(tmp_path) -> Settings:  # type: ignore[no-untyped-def]
    return Settings(home=tmp_path, delivery_backoff_base=2, delivery_backoff_max=60)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def partner_store(store: Store) -> Store:
    with store.unit_of_work() as uow:
        uow.resources.create(endpoint("http://127.0.0.1:9/fhir"))
    return store


def worker(store: Store, settings: Settings, transport: ScriptedTransport, clock: Clock, **kw):  # type: ignore[no-untyped-def]
    return DeliveryWorker(
        store, settings, {"fhir-messaging": transport}, clock=clock, rng=random.Random(7), **kw
    )


def queue(store: Store, *messages: OutboundMessage) -> list[str]:
    with store.unit_of_work() as uow:
        return [uow.outbox.add(m).id for m in messages]


def stored(store: Store, message_id: str) -> OutboundMessage:
    with store.unit_of_work(read_only=True) as uow:
        found = uow.outbox.get(message_id)
    assert found is not None
    return found


def test_a_delivered_message_is_recorded_and_audited(partner_store, settings, clock) -> None:  # type: ignore[no-untyped-def]
    transport = ScriptedTransport(Delivered(200))
    (sent,) = queue(partner_store, message(clock.now))
    assert worker(partner_store, settings, transport, clock).run_once() == 1
    result = stored(partner_store, sent)
    assert (result.status, result.attempts, result.delivered_at) == (DELIVERED, 1, clock.now)
    assert result.lease_owner is None and result.last_status_code == 200
    assert transport.sent[0][1]["address"] == "http://127.0.0.1:9/fhir"
    events = [e for e in _audit_events(partner_store) if f"Bundle/{sent}" in _entities(e)]
    assert len(events) == 1
    assert {"Endpoint/partner-endpoint", "Patient/p1"} <= _entities(events[0])
    assert events[0]["outcome"] == "0"


def test_a_transient_failure_waits_at_least_the_retry_after(partner_store, settings, clock) -> None:  # type: ignore[no-untyped-def]
    transport = ScriptedTransport(TryAgain("HTTP 503", 503, retry_after=120))
    (sent,) = queue(partner_store, message(clock.now))
    worker(partner_store, settings, transport, clock).run_once()
    result = stored(partner_store, sent)
    assert (result.status, result.attempts, result.last_error) == (RETRYING, 1, "HTTP 503")
    assert result.next_attempt_at == clock.now + timedelta(seconds=120)


def test_backoff_is_full_jitter_under_a_doubling_ceiling_and_the_cap(settings, clock) -> None:  # type: ignore[no-untyped-def]
    delivery = DeliveryWorker(None, settings, {}, clock=clock, rng=random.Random(1))  # type: ignore[arg-type]
    failure = TryAgain("timed out")
    for attempts, ceiling in ((0, 2), (1, 4), (3, 16), (10, 60), (5000, 60)):
        delays = [delivery.retry_delay(message(attempts=attempts), failure) for _ in range(300)]
        assert 0 <= min(delays) < ceiling / 4 and ceiling * 3 / 4 < max(delays) <= ceiling


def test_retries_until_delivered(partner_store, settings, clock) -> None:  # type: ignore[no-untyped-def]
    transport = ScriptedTransport(TryAgain("connection refused"), TryAgain("HTTP 429", 429))
    (sent,) = queue(partner_store, message(clock.now))
    delivery = worker(partner_store, settings, transport, clock)
    for _ in range(3):
        delivery.run_once()
        clock.advance(61)
    result = stored(partner_store, sent)
    assert (result.status, result.attempts, len(transport.sent)) == (DELIVERED, 3, 3)
    assert len({m.request_id for m, _ in transport.sent}) == 1  # the same X-Request-Id each time


def test_a_rejection_is_a_dead_letter_keeping_the_partner_outcome(
    partner_store, settings, clock
) -> None:  # type: ignore[no-untyped-def]
    transport = ScriptedTransport(Rejected("HTTP 400", 400, OUTCOME))
    (sent,) = queue(partner_store, message(clock.now))
    worker(partner_store, settings, transport, clock).run_once()
    result = stored(partner_store, sent)
    assert (result.status, result.partner_outcome, result.last_status_code) == (
        DEAD_LETTER,
        OUTCOME,
        400,
    )


def test_past_its_time_to_live_a_failing_message_is_dead_lettered(
    partner_store, settings, clock
) -> None:  # type: ignore[no-untyped-def]
    transport = ScriptedTransport(*[TryAgain("HTTP 503", 503)] * 10)
    (sent,) = queue(partner_store, message(clock.now, ttl=timedelta(seconds=100)))
    delivery = worker(partner_store, settings, transport, clock)
    for _ in range(10):  # 10 minutes of tries, a few past the 100 s time to live
        delivery.run_once()
        clock.advance(61)
    result = stored(partner_store, sent)
    assert (result.status, result.last_status_code) == (DEAD_LETTER, 503)
    assert result.last_error == "time to live ended before delivery; last attempt: HTTP 503"
    assert 1 <= len(transport.sent) <= 3  # at most one try a backoff ceiling (≤ 4 s) apart


def test_a_message_claimed_after_its_time_to_live_is_not_sent(
    partner_store, settings, clock
) -> None:  # type: ignore[no-untyped-def]
    transport = ScriptedTransport()
    (old,) = queue(partner_store, message(clock.now - timedelta(hours=73)))
    worker(partner_store, settings, transport, clock).run_once()
    result = stored(partner_store, old)
    assert (result.status, result.attempts, transport.sent) == (DEAD_LETTER, 0, [])
    assert result.last_error == "time to live ended before delivery"


def test_a_later_message_waits_for_an_earlier_one_to_the_same_person(
    partner_store, settings, clock
) -> None:  # type: ignore[no-untyped-def]
    transport = ScriptedTransport(TryAgain("HTTP 503", 503, retry_after=30))
    referral, cancellation = queue(
        partner_store, message(clock.now, "gp|p1"), message(clock.now, "gp|p1", kind="cancellation")
    )
    delivery = worker(partner_store, settings, transport, clock)
    delivery.run_once()
    clock.advance(10)
    assert delivery.run_once() == 0  # the cancellation does not overtake its referral
    clock.advance(20)
    delivery.run_once()
    delivery.run_once()
    assert transport.sent_ids == [referral, referral, cancellation]


def test_a_worker_whose_lease_ran_out_records_nothing(partner_store, settings, clock) -> None:  # type: ignore[no-untyped-def]
    (sent,) = queue(partner_store, message(clock.now))
    other = worker(
        partner_store, settings, ScriptedTransport(Delivered(200)), clock, worker_id="w2"
    )

    def lease_runs_out_mid_send() -> None:
        clock.advance(settings.delivery_lease_seconds + 1)
        assert other.run_once() == 1  # the message is taken again and delivered

    slow = ScriptedTransport(TryAgain("timed out"), on_send=lease_runs_out_mid_send)
    worker(partner_store, settings, slow, clock, worker_id="w1").run_once()
    result = stored(partner_store, sent)
    assert (result.status, result.attempts) == (DELIVERED, 1)


def test_stopping_finishes_the_current_message_and_gives_back_the_rest(
    partner_store, settings, clock
) -> None:  # type: ignore[no-untyped-def]
    stop = threading.Event()
    first, *rest = queue(partner_store, *(message(clock.now, f"k{i}") for i in range(3)))
    transport = ScriptedTransport(on_send=stop.set)
    worker(partner_store, settings, transport, clock).run(stop)
    assert transport.sent_ids == [first]
    assert stored(partner_store, first).status == DELIVERED
    assert [stored(partner_store, i).lease_owner for i in rest] == [None, None]
    taken = ScriptedTransport()
    assert worker(partner_store, settings, taken, clock).run_once() == 2


def test_a_transport_that_raises_is_a_transient_failure(partner_store, settings, clock) -> None:  # type: ignore[no-untyped-def]
    (sent,) = queue(partner_store, message(clock.now))
    worker(partner_store, settings, ScriptedTransport(RuntimeError("boom")), clock).run_once()
    result = stored(partner_store, sent)
    assert (result.status, result.last_error) == (RETRYING, "the transport failed: RuntimeError")


def test_an_unknown_endpoint_or_transport_is_a_dead_letter(partner_store, settings, clock) -> None:  # type: ignore[no-untyped-def]
    lost, odd = queue(
        partner_store,
        message(clock.now, "a", endpoint_id="gone"),
        message(clock.now, "b", transport="carrier-pigeon"),
    )
    transport = ScriptedTransport()
    worker(partner_store, settings, transport, clock).run_once()
    assert transport.sent == []
    assert stored(partner_store, lost).status == stored(partner_store, odd).status == DEAD_LETTER
    assert "not in the store" in (stored(partner_store, lost).last_error or "")


def test_renews_leases_during_a_long_batch(partner_store, settings, clock) -> None:  # type: ignore[no-untyped-def]
    ids = queue(partner_store, *(message(clock.now, f"k{i}") for i in range(10)))  # 90 s > lease
    rival = worker(partner_store, settings, ScriptedTransport(), clock, worker_id="rival")
    taken: list[int] = []

    def slow_send() -> None:  # each send takes most of a delivery timeout
        clock.advance(settings.delivery_timeout * 0.9)
        taken.append(rival.run_once())

    transport = ScriptedTransport(on_send=slow_send)
    worker(partner_store, settings, transport, clock, worker_id="w1").run_once()
    assert transport.sent_ids == ids and taken == [0] * 10


def test_a_lease_running_low_is_renewed_right_before_a_send(partner_store, settings, clock) -> None:  # type: ignore[no-untyped-def]
    # Each attempt takes 60 % of the lease (a partner answering slowly, read by read).
    ids = queue(partner_store, *(message(clock.now, f"k{i}") for i in range(3)))
    rival = worker(partner_store, settings, ScriptedTransport(), clock, worker_id="rival")
    taken: list[int] = []

    def slow_send() -> None:
        clock.advance(settings.delivery_lease_seconds * 0.6)
        taken.append(rival.run_once())

    transport = ScriptedTransport(on_send=slow_send)
    worker(partner_store, settings, transport, clock, worker_id="w1").run_once()
    assert transport.sent_ids == ids and taken == [0, 0, 0]
    assert [stored(partner_store, i).status for i in ids] == [DELIVERED] * 3


def test_one_message_failing_to_record_does_not_hold_up_the_rest(
    partner_store, settings, clock, monkeypatch, caplog
) -> None:  # type: ignore[no-untyped-def]
    from adapter.exchange import worker as worker_module

    broken, fine = queue(partner_store, message(clock.now, "a"), message(clock.now, "b"))
    real = worker_module.record_result

    def record_result(uow, message, *args):  # type: ignore[no-untyped-def]
        if message.id == broken:
            raise PreconditionFailed(Issue("The Task changed meanwhile."))
        return real(uow, message, *args)

    monkeypatch.setattr(worker_module, "record_result", record_result)
    with caplog.at_level("WARNING", logger="adapter.exchange.worker"):
        assert worker(partner_store, settings, ScriptedTransport(), clock).run_once() == 2
    assert stored(partner_store, fine).status == DELIVERED
    assert stored(partner_store, broken).lease_owner is not None  # taken again when it runs out
    assert f"message {broken}: PreconditionFailed" in caplog.text


def test_replayed_message_is_sent_again_with_the_same_request_id(
    partner_store, settings, clock
) -> None:  # type: ignore[no-untyped-def]
    first = message(clock.now)
    queue(partner_store, first)
    transport = ScriptedTransport(Rejected("HTTP 422", 422, OUTCOME))
    delivery = worker(partner_store, settings, transport, clock)
    delivery.run_once()
    with partner_store.unit_of_work() as uow:
        assert (
            uow.outbox.replay(first.id, clock.now + timedelta(hours=1), clock.now).status == QUEUED
        )
    delivery.run_once()
    delivered = stored(partner_store, first.id)
    assert (delivered.status, delivered.last_error, delivered.partner_outcome) == (
        DELIVERED,
        None,
        None,
    )
    assert [m.request_id for m, _ in transport.sent] == [first.request_id] * 2


def _audit_events(store: Store) -> list[dict]:
    with store.engine.connect() as connection:
        rows = connection.execute(
            sa.select(resource.c.content).where(resource.c.resource_type == "AuditEvent")
        )
        return [orjson.loads(row.content) for row in rows]


def _entities(event: dict) -> set[str]:
    return {e["what"].get("reference") for e in event.get("entity", [])}
