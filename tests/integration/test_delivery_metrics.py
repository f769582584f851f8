"""The delivery worker counts attempts by partner Endpoint and beats for /readyz."""

from __future__ import annotations

import dataclasses
import random
from datetime import timedelta

import pytest
from prometheus_client import REGISTRY

from adapter.exchange.model import Rejected, TryAgain
from adapter.exchange.worker import DeliveryWorker
from adapter.observe.readiness import delivery_state
from adapter.settings import Settings
from adapter.store import Store
from tests.support.delivery import Clock, ScriptedTransport
from tests.support.outbox import ENDPOINT_ID, endpoint, message


@pytest.fixture
def store(tmp_path) -> Store:  # type: ignore[no-untyped-def]
    migrated = Store.from_url(Settings(home=tmp_path).database_url)
    migrated.migrate()
    with migrated.unit_of_work() as uow:
        uow.resources.create(endpoint("http://127.0.0.1:9/fhir"))
    yield migrated
    migrated.dispose()


def counted(name: str) -> float:
    """This process's count for the test partner Endpoint."""
    return REGISTRY.get_sample_value(f"ld_adapter_{name}_total", {"endpoint": ENDPOINT_ID}) or 0


def test_sent_failed_and_dead_lettered_are_counted_by_endpoint(store: Store, tmp_path) -> None:  # type: ignore[no-untyped-def]
    clock = Clock()
    settings = Settings(home=tmp_path, delivery_backoff_base=1, delivery_backoff_max=1)
    transport = ScriptedTransport(TryAgain("HTTP 503", 503), Rejected("HTTP 400", 400))
    worker = DeliveryWorker(
        store, settings, {"fhir-messaging": transport}, clock=clock, rng=random.Random(1)
    )
    names = ("messages_sent", "messages_failed", "messages_dead_lettered")
    before = {name: counted(name) for name in names}
    with store.unit_of_work() as uow:
        uow.outbox.add(message(clock.now))  # tried again after a 503, then delivered
        uow.outbox.add(message(clock.now, ordering_key="partner|p2"))  # refused for good
    worker.run_once()
    clock.now += timedelta(seconds=5)
    worker.run_once()
    after = {name: counted(name) - before[name] for name in names}
    assert after == {"messages_sent": 1, "messages_failed": 1, "messages_dead_lettered": 1}


def test_readiness_wants_a_recent_heartbeat_only_while_messages_are_overdue(
    store: Store, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    clock = Clock()
    settings = Settings(home=tmp_path, worker_stale_seconds=10, delivery_in_process=False)
    assert delivery_state(store, settings, clock.now) == "ok"  # nothing waits
    with store.unit_of_work() as uow:
        uow.outbox.add(message(clock.now))
    assert delivery_state(store, settings, clock.now + timedelta(seconds=5)) == "ok"
    assert delivery_state(store, settings, clock.now + timedelta(seconds=11)) == "not claiming"
    worker = DeliveryWorker(store, settings, {}, clock=lambda: clock.now + timedelta(seconds=11))
    worker.beat()
    assert delivery_state(store, settings, clock.now + timedelta(seconds=12)) == "ok"
    assert delivery_state(store, settings, clock.now + timedelta(seconds=22)) == "not claiming"


def test_a_message_out_of_time_is_counted_dead_without_an_attempt(store: Store, tmp_path) -> None:  # type: ignore[no-untyped-def]
    clock = Clock()
    transport = ScriptedTransport()
    worker = DeliveryWorker(
        store, Settings(home=tmp_path), {"fhir-messaging": transport}, clock=clock
    )
    before = counted("messages_dead_lettered"), counted("messages_failed")
    with store.unit_of_work() as uow:
        uow.outbox.add(
            dataclasses.replace(message(clock.now), expires_at=clock.now - timedelta(seconds=1))
        )
    worker.run_once()
    assert transport.sent == []
    assert counted("messages_dead_lettered") - before[0] == 1
    assert counted("messages_failed") == before[1]
