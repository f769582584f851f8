"""Delivery under faults, with real `ld-adapter worker` processes and a real partner server.

A partner down (refused, then 503 with Retry-After) and back up; a worker killed with SIGKILL in
the middle of a batch; 4 workers on PostgreSQL draining 2,000 messages. In each, every message
arrives, and the partner accepts each X-Request-Id once.
"""

from __future__ import annotations

import os
import signal
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from adapter.exchange.model import DELIVERED
from adapter.store import Store
from adapter.store.testing import postgres_schema
from tests.integration.store_fixtures import POSTGRES_ENV
from tests.support.delivery_processes import (
    start_worker,
    stop_workers,
    wait_until_drained,
    worker_env,
    workers,
)
from tests.support.outbox import endpoint, seed
from tests.support.partner_server import PartnerServer
from tests.support.served import free_port


def sqlite_store(home: Path) -> tuple[str, Store]:
    url = f"sqlite:///{home / 'ld-adapter.db'}"
    store = Store.from_url(url)
    store.migrate()
    return url, store


@pytest.fixture
def partner() -> Iterator[PartnerServer]:
    server = PartnerServer(port=free_port())  # not started: the partner is down
    yield server
    server.stop()


def request_ids(store: Store, ids: list[str]) -> list[str]:
    with store.unit_of_work(read_only=True) as uow:
        found = [uow.outbox.get(i) for i in ids]
    assert all(m is not None and m.status == DELIVERED for m in found)
    return [m.request_id for m in found if m is not None]


def test_a_partner_down_then_failing_then_up_gets_every_message_once(
    tmp_path: Path, partner: PartnerServer
) -> None:
    url, store = sqlite_store(tmp_path)
    with store.unit_of_work() as uow:
        uow.resources.create(endpoint(partner.base))
    ids = seed(store, 30, keys=10)
    worker = start_worker(worker_env(tmp_path, url), tmp_path / "worker.log")
    time.sleep(1.5)  # connection refused, retried with backoff
    partner.fail_for(1.5, 503, retry_after=1)
    partner.start()
    wait_until_drained(store, timeout=30)
    assert stop_workers([worker]) == [0]  # SIGTERM: a graceful exit
    answers = partner.answers()
    assert answers[503] >= 1 and answers[200] == 30
    assert set(partner.accepted_request_ids().values()) == {1}
    assert sorted(partner.accepted_request_ids()) == sorted(request_ids(store, ids))
    # Messages about one person arrived in the order they were queued.
    order = {rid: n for n, rid in enumerate(request_ids(store, ids))}
    arrived = [order[r.request_id] for r in partner.received]
    for key in range(10):
        mine = [n for n in arrived if n % 10 == key]
        assert mine == sorted(mine)
    store.dispose()


def test_a_worker_killed_mid_batch_loses_nothing(tmp_path: Path, partner: PartnerServer) -> None:
    url, store = sqlite_store(tmp_path)
    partner.start()
    with store.unit_of_work() as uow:
        uow.resources.create(endpoint(partner.base))
    ids = seed(store, 40)
    env = worker_env(tmp_path, url, LD_ADAPTER_DELIVERY_BATCH="40")
    doomed = start_worker(env, tmp_path / "doomed.log")
    partner.wait_for(5, timeout=20)
    partner.stall(1.0)  # the next message is in flight when the worker dies
    deadline = time.monotonic() + 10
    while sum(partner.requests_by_id().values()) == len(partner.received):
        assert time.monotonic() < deadline, "no message in flight"
        time.sleep(0.005)
    os.kill(doomed.pid, signal.SIGKILL)
    doomed.wait(timeout=5)
    assert len(partner.received) < 40  # it died with messages still to send
    with workers(env, 1, tmp_path):
        wait_until_drained(store, timeout=30)  # after the dead worker's lease ran out
    accepted = partner.accepted_request_ids()
    assert sorted(accepted) == sorted(request_ids(store, ids)) and set(accepted.values()) == {1}
    # A request sent twice (the one in flight, if the partner had taken it) got 409 duplicate.
    twice = [rid for rid, n in partner.requests_by_id().items() if n > 1]
    assert partner.answers()[409] == len(twice)
    store.dispose()


@pytest.mark.postgres
def test_four_workers_on_postgres_drain_2000_messages_none_twice(
    tmp_path: Path, partner: PartnerServer
) -> None:
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        pytest.skip(f"{POSTGRES_ENV} is not set")
    partner.start()
    with postgres_schema(base) as url:
        store = Store.from_url(url)
        store.migrate()
        with store.unit_of_work() as uow:
            uow.resources.create(endpoint(partner.base))
        ids = seed(store, 2000, keys=500)
        with workers(worker_env(tmp_path, url, LD_ADAPTER_DELIVERY_BATCH="10"), 4, tmp_path):
            wait_until_drained(store, timeout=90)
        sent = partner.requests_by_id()
        assert sorted(sent) == sorted(request_ids(store, ids))
        assert Counter(sent.values()) == {1: 2000}  # none sent twice, by any worker
        delivered = [p.read_text().count(": delivered ") for p in tmp_path.glob("worker-*.log")]
        assert sum(delivered) == 2000 and len([n for n in delivered if n]) >= 2  # they shared it
        store.dispose()


def test_serve_delivers_in_process_unless_told_not_to(
    tmp_path: Path, partner: PartnerServer
) -> None:
    from tests.support.served import served_adapter

    partner.start()
    url, store = sqlite_store(tmp_path)
    with store.unit_of_work() as uow:
        uow.resources.create(endpoint(partner.base))
    seed(store, 3)
    off = {"LD_ADAPTER_DELIVERY_IN_PROCESS": "false", "LD_ADAPTER_WORKERS": "1"}
    with served_adapter(tmp_path, {"LD_ADAPTER_DATABASE_URL": url, **off}):
        time.sleep(1.5)
        assert partner.received == []
    with served_adapter(tmp_path, {"LD_ADAPTER_DATABASE_URL": url, "LD_ADAPTER_WORKERS": "1"}):
        partner.wait_for(3, timeout=20)
    store.dispose()
