"""The onward referral's Task follows the delivery of its message, in the same transaction."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest

from adapter.exchange import outcomes
from adapter.exchange.model import Delivered, TryAgain
from adapter.exchange.worker import DeliveryWorker
from adapter.mapping.onward_referral import task_with_delivery_status
from adapter.settings import Settings
from adapter.store import Store
from tests.integration.store_fixtures import *  # noqa: F403  (the store fixtures)
from tests.integration.test_store_onward_referrals import onward
from tests.integration.test_store_referrals import record as referral_record
from tests.support.delivery import Clock, ScriptedTransport
from tests.support.outbox import endpoint, message

TASK = {
    "resourceType": "Task",
    "id": "t1",
    "status": "requested",
    "intent": "order",
    "businessStatus": {"text": "queued"},
}


@pytest.fixture
def referred(store: Store) -> Store:
    """A referral, its onward referral o1 with Task t1, and the partner's Endpoint."""
    with store.unit_of_work() as uow:
        uow.referrals.add(referral_record())
        uow.onward_referrals.add(onward("o1"))
        uow.resources.create(TASK)
        uow.resources.create(endpoint("http://127.0.0.1:9/fhir"))
    return store


def fake_status(task: dict, delivery_status: str, at: datetime) -> dict:
    return {**task, "businessStatus": {"text": delivery_status}, "lastModified": at.isoformat()}


def deliver(store: Store, tmp_path, *results) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(home=tmp_path)
    transport = ScriptedTransport(*results)
    clock = Clock(datetime.now(UTC))
    delivery = DeliveryWorker(store, settings, {"fhir-messaging": transport}, clock=clock)
    delivery._random = random.Random(3)
    for _ in range(len(results) + 1):
        delivery.run_once()
        clock.advance(3600)


def task_history(store: Store) -> list[str]:
    with store.unit_of_work(read_only=True) as uow:
        return [t["businessStatus"]["text"] for t in uow.resources.history("Task", "t1")][::-1]


def test_the_task_moves_with_each_change_of_delivery_status(
    referred: Store, tmp_path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(outcomes, "task_with_delivery_status", fake_status)
    with referred.unit_of_work() as uow:
        uow.outbox.add(message(onward_referral_id="o1"))
    deliver(
        referred, tmp_path, TryAgain("HTTP 503", 503), TryAgain("HTTP 503", 503), Delivered(200)
    )
    # One version per change (retrying once, however many retries), then delivered.
    assert task_history(referred) == ["queued", "retrying", "delivered"]


def test_a_cancellation_message_leaves_the_task_to_the_cancel_itself(
    referred: Store, tmp_path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(outcomes, "task_with_delivery_status", fake_status)
    with referred.unit_of_work() as uow:
        uow.outbox.add(message(onward_referral_id="o1", kind="cancellation"))
    deliver(referred, tmp_path, Delivered(200))
    assert task_history(referred) == ["queued"]


def test_the_task_gets_the_mapping_s_business_status(referred: Store, tmp_path) -> None:  # type: ignore[no-untyped-def]
    with referred.unit_of_work() as uow:
        queued = uow.outbox.add(message(onward_referral_id="o1"))
    deliver(referred, tmp_path, Delivered(200))
    with referred.unit_of_work(read_only=True) as uow:
        task = uow.resources.read("Task", "t1")
        sent = uow.outbox.get(queued.id)
    assert task is not None and sent is not None and sent.delivered_at is not None
    expected = task_with_delivery_status(TASK, "delivered", sent.delivered_at)
    assert {k: v for k, v in task.items() if k != "meta"} == expected
