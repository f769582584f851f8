"""OutboxRepository on SQLite and PostgreSQL: sequence, claims under leases, ordering, replay."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from adapter.errors import Conflict, NotFound
from adapter.exchange.model import CANCELLED, DEAD_LETTER, DELIVERED, QUEUED, RETRYING
from adapter.store import Store
from tests.integration.store_fixtures import *  # noqa: F403  (the store fixtures)
from tests.support.outbox import message

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
LEASE = timedelta(seconds=60)


def claim(store: Store, owner: str, now: datetime = T0, limit: int = 20) -> list[str]:
    with store.unit_of_work() as uow:
        return [m.id for m in uow.outbox.claim(owner, now, now + LEASE, limit)]


def finish(store: Store, message_id: str, owner: str, status: str = DELIVERED) -> bool:
    with store.unit_of_work() as uow:
        return uow.outbox.finish(message_id, owner, {"status": status}) is not None


def add(store: Store, *messages: object) -> list[str]:
    with store.unit_of_work() as uow:
        return [uow.outbox.add(m).id for m in messages]  # type: ignore[arg-type]


def test_add_numbers_messages_in_order_and_reads_them_back(store: Store) -> None:
    first, second = message(T0), message(T0, partner_outcome={"resourceType": "OperationOutcome"})
    with store.unit_of_work() as uow:
        stored = [uow.outbox.add(first), uow.outbox.add(second)]
    assert stored[0].sequence < stored[1].sequence
    with store.unit_of_work(read_only=True) as uow:
        assert uow.outbox.get(first.id) == stored[0]
        assert uow.outbox.get(second.id) == stored[1]
        assert uow.outbox.get("nope") is None


def test_a_request_id_is_queued_once(store: Store) -> None:
    first = message(T0)
    add(store, first)
    with pytest.raises(sa.exc.IntegrityError), store.unit_of_work() as uow:
        uow.outbox.add(message(T0, request_id=first.request_id))


def test_only_the_head_of_each_ordering_key_is_claimed(store: Store) -> None:
    a1, a2, b1 = add(store, message(T0, "a"), message(T0, "a"), message(T0, "b"))
    assert claim(store, "w1") == [a1, b1]
    assert claim(store, "w2") == []  # a2 waits for a1, which w1 holds
    assert finish(store, a1, "w1")
    assert claim(store, "w2") == [a2]


def test_a_message_waiting_to_retry_holds_back_the_later_ones(store: Store) -> None:
    a1, _ = add(store, message(T0, "a"), message(T0, "a"))
    assert claim(store, "w1") == [a1]
    with store.unit_of_work() as uow:
        later = T0 + timedelta(minutes=5)
        uow.outbox.finish(a1, "w1", {"status": RETRYING, "next_attempt_at": later})
    assert claim(store, "w1", T0 + timedelta(minutes=1)) == []
    assert claim(store, "w1", T0 + timedelta(minutes=5)) == [a1]


def test_a_dead_letter_or_cancellation_no_longer_holds_back_its_key(store: Store) -> None:
    a1, a2, a3 = add(store, *(message(T0, "a") for _ in range(3)))
    claim(store, "w1")
    finish(store, a1, "w1", DEAD_LETTER)
    with store.unit_of_work() as uow:
        assert uow.outbox.cancel_pending([a2], T0) == 1
    assert claim(store, "w1") == [a3]


def test_messages_not_yet_due_are_not_claimed(store: Store) -> None:
    (later,) = add(store, message(T0, next_attempt_at=T0 + timedelta(seconds=30)))
    assert claim(store, "w1") == []
    assert claim(store, "w1", T0 + timedelta(seconds=30)) == [later]


def test_a_claim_takes_at_most_the_limit_oldest_first(store: Store) -> None:
    ids = add(store, *(message(T0, f"k{i}") for i in range(5)))
    assert claim(store, "w1", limit=3) == ids[:3]
    assert claim(store, "w2", limit=3) == ids[3:]


def test_an_expired_lease_is_claimed_again_and_only_the_new_holder_records(store: Store) -> None:
    (only,) = add(store, message(T0))
    assert claim(store, "dead-worker") == [only]
    assert claim(store, "w2", T0 + LEASE - timedelta(seconds=1)) == []
    assert claim(store, "w2", T0 + LEASE) == [only]
    assert not finish(store, only, "dead-worker")
    assert finish(store, only, "w2")
    with store.unit_of_work(read_only=True) as uow:
        stored = uow.outbox.get(only)
    assert stored is not None and stored.status == DELIVERED and stored.lease_owner is None


def test_a_released_lease_is_claimable_at_once(store: Store) -> None:
    (only,) = add(store, message(T0))
    claim(store, "w1")
    with store.unit_of_work() as uow:
        assert uow.outbox.release([only], "someone-else") == 0
        assert uow.outbox.release([only], "w1") == 1
    assert claim(store, "w2") == [only]


def test_cancel_leaves_messages_being_sent_and_final_ones_alone(store: Store) -> None:
    sending, waiting, done = add(store, message(T0, "a"), message(T0, "b"), message(T0, "c"))
    claim(store, "w1", limit=3)
    finish(store, done, "w1")
    with store.unit_of_work() as uow:
        assert uow.outbox.cancel_pending([sending, waiting, done], T0) == 0
        uow.outbox.release([waiting], "w1")
        assert uow.outbox.cancel_pending([sending, waiting, done], T0) == 1
        statuses = [uow.outbox.get(i).status for i in (sending, waiting, done)]  # type: ignore[union-attr]
    assert statuses == [QUEUED, CANCELLED, DELIVERED]


def test_replay_requeues_a_dead_letter_with_the_same_request_id(store: Store) -> None:
    first = message(T0)
    add(store, first)
    claim(store, "w1")
    with store.unit_of_work() as uow:
        uow.outbox.finish(first.id, "w1", {"status": DEAD_LETTER, "attempts": 3})
    later = T0 + timedelta(days=5)
    with store.unit_of_work() as uow:
        replayed = uow.outbox.replay(first.id, later + timedelta(hours=72), later)
    assert (replayed.status, replayed.attempts, replayed.request_id) == (
        QUEUED,
        0,
        first.request_id,
    )
    assert replayed.expires_at == later + timedelta(hours=72)
    assert claim(store, "w1", later) == [first.id]


def test_replay_refuses_what_is_not_dead_lettered(store: Store) -> None:
    (queued,) = add(store, message(T0))
    with pytest.raises(Conflict), store.unit_of_work() as uow:
        uow.outbox.replay(queued, T0)
    with pytest.raises(NotFound), store.unit_of_work() as uow:
        uow.outbox.replay("nope", T0)


def test_list_by_status_newest_first_with_total(store: Store) -> None:
    ids = add(store, *(message(T0, f"k{i}") for i in range(4)))
    claim(store, "w1", limit=1)
    finish(store, ids[0], "w1", DEAD_LETTER)
    with store.unit_of_work(read_only=True) as uow:
        queued, total = uow.outbox.list(QUEUED, limit=2, offset=0)
        dead, dead_total = uow.outbox.list(DEAD_LETTER, limit=10, offset=0)
        everything, all_total = uow.outbox.list(None, limit=10, offset=0)
    assert ([m.id for m in queued], total) == ([ids[3], ids[2]], 3)
    assert ([m.id for m in dead], dead_total) == ([ids[0]], 1)
    assert all_total == 4 and [m.id for m in everything] == ids[::-1]


def test_for_onward_referral_in_sequence(store: Store) -> None:
    ids = add(
        store,
        message(T0, "a", onward_referral_id="o1"),
        message(T0, "b", onward_referral_id="o2"),
        message(T0, "a", onward_referral_id="o1", kind="cancellation"),
    )
    with store.unit_of_work(read_only=True) as uow:
        found = uow.outbox.for_onward_referral("o1")
    assert [m.id for m in found] == [ids[0], ids[2]]


def test_concurrent_claims_never_take_one_message_twice(store: Store) -> None:
    ids = add(store, *(message(T0, f"k{i}") for i in range(60)))
    taken: dict[str, list[str]] = {}
    start = threading.Barrier(4)

    def worker(name: str) -> None:
        start.wait()
        mine = taken.setdefault(name, [])
        while batch := claim(store, name, limit=5):
            mine.extend(batch)

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    every = [i for mine in taken.values() for i in mine]
    assert sorted(every) == sorted(ids)


@pytest.mark.postgres
def test_on_postgres_a_claim_skips_rows_another_claim_has_locked(postgres_url: str) -> None:
    store = Store.from_url(postgres_url)
    try:
        first, second = add(store, message(T0, "a"), message(T0, "b"))
        with store.engine.connect() as other, other.begin():
            # Another worker's claim, still in its transaction: its row lock is held.
            other.exec_driver_sql(
                "SELECT id FROM outbox_message WHERE id = %s FOR UPDATE", (first,)
            )
            assert claim(store, "w2") == [second]  # does not wait, does not take `first`
    finally:
        store.dispose()
