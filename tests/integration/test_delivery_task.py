"""The onward referral's Task follows the delivery of its message, in the same transaction; a
message whose onward referral was cancelled, or whose consent was withdrawn, is never sent."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from adapter.exchange import outcomes
from adapter.exchange.model import CANCELLED, RETRYING, Delivered, TryAgain
from adapter.exchange.worker import DeliveryWorker
from adapter.mapping.onward_referral import task_with_delivery_status
from adapter.settings import Settings
from adapter.store import Store
from tests.integration.store_fixtures import *  # noqa: F403  (the store fixtures)
from tests.support.delivery import Clock, ScriptedTransport
from tests.support.outbox import TASK, message, store_onward_referral, withdraw_consent


@pytest.fixture
def referred(store: Store) -> Store:
    """A referral, its onward referral o1 with Task t1, and the partner with its Endpoint."""
    store_onward_referral(store, "http://127.0.0.1:9/fhir")
    return store


def fake_status(task: dict, delivery_status: str, at: datetime) -> dict:
    return {**task, "businessStatus": {"text": delivery_status}, "lastModified": at.isoformat()}


def deliver(store: Store, tmp_path, *results, on_send=None) -> ScriptedTransport:  # type: ignore[no-untyped-def]
    settings = Settings(home=tmp_path)
    transport = ScriptedTransport(*results, on_send=on_send)
    clock = Clock(datetime.now(UTC))
    delivery = DeliveryWorker(store, settings, {"fhir-messaging": transport}, clock=clock)
    delivery._random = random.Random(3)
    for _ in range(len(results) + 1):
        delivery.run_once()
        clock.advance(3600)
    return transport


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


def stored_message(store: Store, message_id: str):  # type: ignore[no-untyped-def]
    with store.unit_of_work(read_only=True) as uow:
        return uow.outbox.get(message_id)


def cancel_onward_referral(store: Store) -> None:
    """What the cancel path does to the record and the Task (the outbox aside)."""
    with store.unit_of_work() as uow:
        record = uow.onward_referrals.get("o1")
        task = uow.resources.read("Task", "t1")
        assert record is not None and task is not None
        uow.onward_referrals.update(replace(record, status="cancelled"), record.version)
        uow.resources.update({**task, "businessStatus": {"text": "cancelled-by-user"}})


def test_a_message_whose_consent_was_withdrawn_is_cancelled_not_sent(
    referred: Store, tmp_path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(outcomes, "task_with_delivery_status", fake_status)
    with referred.unit_of_work() as uow:
        queued = uow.outbox.add(message(onward_referral_id="o1"))
    withdraw_consent(referred)
    transport = deliver(referred, tmp_path)
    assert transport.sent == []
    withdrawn = stored_message(referred, queued.id)
    assert (withdrawn.status, withdrawn.attempts) == (CANCELLED, 0)
    assert withdrawn.last_error.startswith("consent no longer permits sending: share-health")
    assert task_history(referred) == ["queued", "cancelled"]


def test_a_message_of_a_cancelled_onward_referral_is_not_sent_and_the_task_kept(
    referred: Store, tmp_path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(outcomes, "task_with_delivery_status", fake_status)
    with referred.unit_of_work() as uow:
        queued = uow.outbox.add(message(onward_referral_id="o1"))
    cancel_onward_referral(referred)
    assert deliver(referred, tmp_path).sent == []
    withdrawn = stored_message(referred, queued.id)
    assert withdrawn.status == CANCELLED
    assert withdrawn.last_error == "the onward referral was cancelled before delivery"
    assert task_history(referred) == ["queued", "cancelled-by-user"]


def test_a_delivery_finishing_after_a_cancel_leaves_the_cancelled_task_alone(
    referred: Store, tmp_path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(outcomes, "task_with_delivery_status", fake_status)
    with referred.unit_of_work() as uow:
        uow.outbox.add(message(onward_referral_id="o1"))
    # Cancelled while the worker is sending: the partner gets it, then the cancellation.
    deliver(referred, tmp_path, Delivered(200), on_send=lambda: cancel_onward_referral(referred))
    assert task_history(referred) == ["queued", "cancelled-by-user"]


def test_a_message_to_a_partner_out_of_service_is_held_not_sent(referred: Store, tmp_path) -> None:  # type: ignore[no-untyped-def]
    with referred.unit_of_work() as uow:
        queued = uow.outbox.add(message(onward_referral_id="o1"))
        service = uow.resources.read("HealthcareService", "gp-wrekin-practice")
        assert service is not None
        uow.resources.update({**service, "active": False})
    settings = Settings(home=tmp_path)
    transport = ScriptedTransport()
    clock = Clock(datetime.now(UTC))
    DeliveryWorker(referred, settings, {"fhir-messaging": transport}, clock=clock).run_once()
    held = stored_message(referred, queued.id)
    assert transport.sent == [] and (held.status, held.attempts) == (RETRYING, 0)
    assert held.last_error == "the partner service or its Endpoint is not active"
    assert held.next_attempt_at == clock.now + timedelta(seconds=settings.delivery_backoff_max)
