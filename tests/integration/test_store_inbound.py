"""Inbound messages, referral answers and onward outcomes on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from adapter.errors import Conflict
from adapter.store import InboundMessageRecord, ReferralAnswerRecord, Store
from adapter.store.testing import schema_drift
from tests.integration.store_fixtures import *  # noqa: F403  (the store fixtures)
from tests.integration.test_store_onward_referrals import onward
from tests.integration.test_store_referrals import record as referral_record

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
BUNDLE = {"resourceType": "Bundle", "id": "b-1", "type": "message", "entry": []}


def inbound(record_id: str = "m1", **changes: object) -> InboundMessageRecord:
    base = InboundMessageRecord(
        id=record_id,
        request_id=f"req-{record_id}",
        correlation_id="8f1a3c2e-0000-4000-8000-000000000001",
        bundle_id="b-1",
        event="servicerequest-request",
        reason="new",
        partner_service="hs-crisis",
        sender_endpoint="https://partner.example/fhir",
        received_at=T0,
        body=BUNDLE,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def answer(answer_id: str, at: datetime, **changes: object) -> ReferralAnswerRecord:
    base = ReferralAnswerRecord(
        id=answer_id,
        referral_id="r-L-1",
        kind="decision",
        code="accepted",
        reason=None,
        recorded_at=at,
        recorded_by="practitioner-1",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_the_schema_matches_the_tables(store: Store) -> None:
    assert schema_drift(store) == []


def test_add_and_read_back_by_id_request_bundle_and_referral(store: Store) -> None:
    with store.unit_of_work() as uow:
        uow.inbound.add(inbound("m2", received_at=T0 + timedelta(seconds=1)))
        uow.inbound.add(inbound("m1"))
        uow.inbound.set_effect("m1", "r-1", None)
        uow.inbound.set_effect("m2", "r-1", "o-1")
    with store.unit_of_work(read_only=True) as uow:
        first = uow.inbound.get("m1")
        assert first == inbound("m1", referral_id="r-1")
        assert first is not None and first.body == BUNDLE
        assert uow.inbound.get_by_request_id("req-m2") == uow.inbound.get("m2")
        assert uow.inbound.has_request_id("req-m2")
        assert not uow.inbound.has_request_id("req-other")
        assert uow.inbound.get_by_bundle_id("b-1") == first
        assert uow.inbound.get_by_bundle_id("other") is None
        assert [m.id for m in uow.inbound.for_referral("r-1")] == ["m1", "m2"]
        assert [m.id for m in uow.inbound.for_onward_referral("o-1")] == ["m2"]
        assert uow.inbound.for_referral("r-2") == []
        assert uow.inbound.has_referral("r-1")
        assert not uow.inbound.has_referral("r-2")


def test_a_repeated_request_id_is_a_duplicate_and_its_transaction_has_no_effect(
    store: Store,
) -> None:
    with store.unit_of_work() as uow:
        uow.inbound.add(inbound("m1"))
    with pytest.raises(Conflict) as raised, store.unit_of_work() as uow:
        uow.resources.create({"resourceType": "Patient", "id": "effect"})
        uow.inbound.add(inbound("m2", request_id="req-m1"))
    assert (raised.value.status, raised.value.issues[0].code) == (409, "duplicate")
    with store.unit_of_work(read_only=True) as uow:
        assert uow.inbound.get("m2") is None
        assert uow.resources.read("Patient", "effect") is None


@pytest.mark.postgres
def test_a_concurrent_duplicate_waits_for_the_first_and_then_fails(postgres_url: str) -> None:
    store = Store.from_url(postgres_url)
    results: list[str] = []
    entered = threading.Event()

    def second() -> None:
        entered.wait()
        try:
            with store.unit_of_work() as uow:
                uow.inbound.add(inbound("late", request_id="req-race"))
            results.append("stored")
        except Conflict:
            results.append("duplicate")

    thread = threading.Thread(target=second)
    thread.start()
    with store.unit_of_work() as uow:
        uow.inbound.add(inbound("early", request_id="req-race"))
        entered.set()
        time.sleep(0.3)  # the second insert is now waiting on this uncommitted row
    thread.join(timeout=10)
    assert results == ["duplicate"]
    with store.unit_of_work(read_only=True) as uow:
        assert uow.inbound.get_by_request_id("req-race") == inbound("early", request_id="req-race")
    store.dispose()


def test_answers_are_listed_oldest_first_and_need_their_referral(store: Store) -> None:
    with store.unit_of_work() as uow:
        uow.referrals.add(referral_record())
        uow.answers.add(answer("a2", T0 + timedelta(minutes=5), kind="outcome", code="seen"))
        made = uow.answers.add(answer("", T0, reason="capacity", message_id="msg-1"))
    assert made.id
    with store.unit_of_work(read_only=True) as uow:
        listed = uow.answers.for_referral("r-L-1")
        assert [(a.kind, a.code, a.reason) for a in listed] == [
            ("decision", "accepted", "capacity"),
            ("outcome", "seen", None),
        ]
        assert listed[0] == made
        assert uow.answers.for_referral("other") == []
    with pytest.raises(sa.exc.IntegrityError), store.unit_of_work() as uow:
        uow.answers.add(answer("a3", T0, referral_id="no-such-referral"))


def test_onward_outcomes_start_empty_and_are_kept_by_update(store: Store) -> None:
    outcomes = [
        {"status": "accepted", "reason": None, "at": "2026-12-01T09:00:00Z", "message_id": "m1"},
        {"status": "completed", "reason": "seen", "at": "2026-12-02T09:00:00Z", "message_id": "m2"},
    ]
    with store.unit_of_work() as uow:
        uow.referrals.add(referral_record())
        assert uow.onward_referrals.add(onward()).outcomes == []
    with store.unit_of_work() as uow:
        uow.onward_referrals.update(onward(outcomes=outcomes), expected_version=1)
    with store.unit_of_work(read_only=True) as uow:
        stored = uow.onward_referrals.get("o1")
        assert stored is not None and stored.outcomes == outcomes
