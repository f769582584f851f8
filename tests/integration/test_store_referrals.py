"""ReferralRepository on SQLite and PostgreSQL: versions, history, filters and paging."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest

from adapter.errors import Conflict, NotFound, PreconditionFailed
from adapter.store import ReferralFilters, ReferralRecord, Store
from tests.integration.store_fixtures import *  # noqa: F403  (the store fixtures)

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def record(local_id: str = "L-1", **changes: object) -> ReferralRecord:
    base = ReferralRecord(
        id=f"r-{local_id}",
        version=1,
        created_at=T0,
        updated_at=T0,
        local_id=local_id,
        status="received",
        received_at=T0,
        source="E1",
        setting="custody-suite",
        site="custody-telford",
        urgency="routine",
        nhs_number="9990012342",
        native={"local_id": local_id, "person": {"family_name": "Smith"}},
        resource_ids={"patient": "p1", "service_request": "s1"},
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_add_then_get_by_id_and_local_id(store: Store) -> None:
    with store.unit_of_work() as uow:
        uow.referrals.add(record())
    with store.unit_of_work() as uow:
        by_id = uow.referrals.get("r-L-1")
        by_local = uow.referrals.get_by_local_id("L-1")
        assert uow.referrals.get("nope") is None
    assert by_id == by_local == record()
    assert by_id is not None and by_id.received_at.tzinfo is not None


def test_a_second_referral_with_the_same_local_id_is_a_conflict(store: Store) -> None:
    with store.unit_of_work() as uow:
        uow.referrals.add(record())
    with pytest.raises(Conflict), store.unit_of_work() as uow:
        uow.referrals.add(record(id="another"))


def test_update_bumps_the_version_and_keeps_history(store: Store) -> None:
    with store.unit_of_work() as uow:
        uow.referrals.add(record())
    with store.unit_of_work() as uow:
        updated = uow.referrals.update(record(status="screening"), expected_version=1)
    assert updated.version == 2
    with store.unit_of_work() as uow:
        assert uow.referrals.get("r-L-1") == updated
    with pytest.raises(PreconditionFailed), store.unit_of_work() as uow:
        uow.referrals.update(record(status="closed"), expected_version=1)
    with pytest.raises(NotFound), store.unit_of_work() as uow:
        uow.referrals.update(record("L-unknown"), expected_version=None)


def test_list_filters_and_pages_newest_first(store: Store) -> None:
    with store.unit_of_work() as uow:
        for n in range(5):
            uow.referrals.add(
                record(
                    f"L-{n}",
                    received_at=T0 + timedelta(hours=n),
                    nhs_number=None if n else "9990012342",
                )
            )
        uow.referrals.add(
            record("L-court", setting="magistrates-court", site="court-cannock", urgency="urgent")
        )
    with store.unit_of_work() as uow:
        page, total = uow.referrals.list(
            ReferralFilters(setting="custody-suite"), limit=2, offset=0
        )
        rest, _ = uow.referrals.list(ReferralFilters(setting="custody-suite"), limit=10, offset=2)
        window, window_total = uow.referrals.list(
            ReferralFilters(
                received_from=T0 + timedelta(hours=1), received_to=T0 + timedelta(hours=3)
            ),
            limit=10,
            offset=0,
        )
        urgent, _ = uow.referrals.list(ReferralFilters(urgency="urgent"), limit=10, offset=0)
        by_nhs, _ = uow.referrals.list(ReferralFilters(nhs_number="9990012342"), limit=10, offset=0)
    assert total == 5
    assert [r.local_id for r in page] == ["L-4", "L-3"]
    assert [r.local_id for r in rest] == ["L-2", "L-1", "L-0"]
    assert window_total == 3 and {r.local_id for r in window} == {"L-1", "L-2", "L-3"}
    assert [r.local_id for r in urgent] == ["L-court"]
    assert {r.local_id for r in by_nhs} == {"L-0", "L-court"}


def test_a_failed_unit_of_work_stores_no_referral(store: Store) -> None:
    with pytest.raises(Conflict), store.unit_of_work() as uow:
        uow.referrals.add(record("L-9"))
        uow.resources.create({"resourceType": "Patient", "id": "p9"})
        uow.resources.create({"resourceType": "Patient", "id": "p9"})
    with store.unit_of_work() as uow:
        assert uow.referrals.get_by_local_id("L-9") is None
        assert uow.resources.read("Patient", "p9") is None


def test_awkward_filters_match_nothing_instead_of_failing(store: Store) -> None:
    with store.unit_of_work() as uow:
        uow.referrals.add(record())
    far_east = datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=14)))
    with store.unit_of_work() as uow:
        assert uow.referrals.list(ReferralFilters(status="\x00"), limit=5, offset=0) == ([], 0)
        everything = uow.referrals.list(ReferralFilters(received_from=far_east), limit=5, offset=0)
    assert everything[1] == 1
