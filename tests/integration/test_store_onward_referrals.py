"""OnwardReferralRepository on SQLite and PostgreSQL: add, read, versioned update, per referral."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from adapter.errors import Conflict, NotFound
from adapter.store import OnwardReferralRecord, Store
from tests.integration.store_fixtures import *  # noqa: F403  (the store fixtures)
from tests.integration.test_store_referrals import record as referral_record

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def onward(record_id: str = "o1", **changes: object) -> OnwardReferralRecord:
    base = OnwardReferralRecord(
        id=record_id,
        version=1,
        referral_id="r-L-1",
        created_at=T0,
        updated_at=T0,
        pathway="crisis-team",
        partner_service="hs-crisis",
        status="active",
        correlation_id="8f1a3c2e-0000-4000-8000-000000000001",
        native={"pathway": "crisis-team", "to": "hs-crisis"},
        resource_ids={"service_request": "ServiceRequest/sr1", "task": "Task/t1", "consents": []},
    )
    return replace(base, **changes)  # type: ignore[arg-type]


@pytest.fixture
def referred(store: Store) -> Store:
    with store.unit_of_work() as uow:
        uow.referrals.add(referral_record())
    return store


def test_add_get_and_list_for_the_referral_oldest_first(referred: Store) -> None:
    later = onward("o2", created_at=T0 + timedelta(minutes=1), updated_at=T0)
    with referred.unit_of_work() as uow:
        uow.onward_referrals.add(later)
        uow.onward_referrals.add(onward("o1", version=7))
    with referred.unit_of_work(read_only=True) as uow:
        assert uow.onward_referrals.get("o1") == onward("o1")
        assert uow.onward_referrals.get("nope") is None
        assert [r.id for r in uow.onward_referrals.for_referral("r-L-1")] == ["o1", "o2"]
        assert uow.onward_referrals.for_referral("other") == []


def test_update_bumps_the_version_and_keeps_created_at(referred: Store) -> None:
    with referred.unit_of_work() as uow:
        uow.onward_referrals.add(onward())
    cancelled = onward(status="cancelled", created_at=T0 + timedelta(days=1))
    with referred.unit_of_work() as uow:
        stored = uow.onward_referrals.update(cancelled, expected_version=1)
    assert (stored.version, stored.status, stored.created_at) == (2, "cancelled", T0)
    with referred.unit_of_work(read_only=True) as uow:
        assert uow.onward_referrals.get("o1") == stored


def test_update_of_a_stale_version_is_a_conflict_and_of_a_missing_one_not_found(
    referred: Store,
) -> None:
    with referred.unit_of_work() as uow:
        uow.onward_referrals.add(onward())
        uow.onward_referrals.update(onward(status="completed"))
    with pytest.raises(Conflict), referred.unit_of_work() as uow:
        uow.onward_referrals.update(onward(status="cancelled"), expected_version=1)
    with pytest.raises(NotFound), referred.unit_of_work() as uow:
        uow.onward_referrals.update(onward("missing"))


def test_an_onward_referral_needs_its_referral(store: Store) -> None:
    with pytest.raises(sa.exc.IntegrityError), store.unit_of_work() as uow:
        uow.onward_referrals.add(onward(referral_id="no-such-referral"))
