"""Several processes and threads on one database: migrations at start, readers beside a writer."""

from __future__ import annotations

import multiprocessing
import os
import threading
from pathlib import Path

import pytest

from adapter.store import Store
from adapter.store.testing import postgres_schema, schema_drift
from tests.integration.store_fixtures import *  # noqa: F403  (the store fixtures)
from tests.integration.store_fixtures import POSTGRES_ENV


def _migrate(url: str) -> None:
    store = Store.from_url(url)
    store.migrate()
    with store.unit_of_work() as uow:
        uow.resources.upsert({"resourceType": "Location", "id": "shared", "name": "Custody"})
    store.dispose()


def _migrate_from_processes(url: str, processes: int = 4) -> None:
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_migrate, args=(url,)) for _ in range(processes)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert [w.exitcode for w in workers] == [0] * processes


def _assert_migrated_once(url: str) -> None:
    store = Store.from_url(url)
    with store.unit_of_work() as uow:
        assert [v["meta"]["versionId"] for v in uow.resources.history("Location", "shared")] == [
            "1"
        ]
    assert schema_drift(store) == []
    store.dispose()


def test_concurrent_first_start_on_sqlite(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    _migrate_from_processes(url)
    _assert_migrated_once(url)


@pytest.mark.postgres
def test_concurrent_first_start_on_postgres() -> None:
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        pytest.skip(f"{POSTGRES_ENV} is not set")
    with postgres_schema(base) as url:
        _migrate_from_processes(url)
        _assert_migrated_once(url)


def test_migrate_again_changes_nothing(store: Store) -> None:
    with store.unit_of_work() as uow:
        uow.resources.create({"resourceType": "Patient", "id": "kept"})
    store.migrate()
    with store.unit_of_work() as uow:
        assert uow.resources.read("Patient", "kept") is not None
    assert schema_drift(store) == []


def test_in_memory_sqlite_works_for_one_process() -> None:
    store = Store.from_url("sqlite://")
    store.migrate()
    with store.unit_of_work() as uow:
        uow.resources.create({"resourceType": "Patient", "id": "m1"})
    with store.unit_of_work() as uow:
        assert uow.resources.read("Patient", "m1") is not None
    assert store.ping()
    store.dispose()


def test_reads_on_sqlite_do_not_wait_for_a_writer(tmp_path: Path) -> None:
    store = Store.from_url(f"sqlite:///{tmp_path / 'wal.db'}")
    store.migrate()
    with store.unit_of_work() as uow:
        uow.resources.create({"resourceType": "Patient", "id": "p1", "gender": "male"})
    seen: list[dict | None] = []
    with store.unit_of_work() as writer:
        writer.resources.update({"resourceType": "Patient", "id": "p1", "gender": "female"})
        reader = threading.Thread(target=lambda: seen.append(_read(store)))
        reader.start()
        reader.join(timeout=5)
        assert not reader.is_alive(), "the read waited for the writer's lock"
    assert seen[0] is not None and seen[0]["gender"] == "male"
    assert _read(store)["gender"] == "female"  # type: ignore[index]
    store.dispose()


def _read(store: Store) -> dict | None:
    with store.unit_of_work(read_only=True) as uow:
        return uow.resources.read("Patient", "p1")
