"""The console overview's render time with 100,000 messages stored, on SQLite and PostgreSQL.

In process (Flask test client, signed in), so the figure is the server's own work without HTTP.
Run just this section: `.venv/bin/python -m tests.benchmarks.console [count]`.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from adapter import create_app
from adapter.settings import Settings
from adapter.store.testing import postgres_schema
from tests.support.console import sign_in
from tests.support.console_load import load_messages

POSTGRES_ENV = "LD_ADAPTER_TEST_POSTGRES_URL"
MESSAGES = 100_000
RENDERS = 30
Median = Callable[[Callable[[], object], int], float]


@contextmanager
def _database(name: str, home: Path) -> Iterator[str]:
    if name == "SQLite":
        yield f"sqlite:///{home / 'store.db'}"
    else:
        with postgres_schema(os.environ[POSTGRES_ENV]) as url:
            yield url


def overview_render(name: str, count: int, renders: int = RENDERS) -> tuple[float, float, float]:
    """Seconds to load `count` messages, and the median and slowest overview render after it."""
    with tempfile.TemporaryDirectory() as folder, _database(name, Path(folder)) as url:
        settings = Settings(home=Path(folder), base_url="http://bench", database_url=url)
        app = create_app(settings)
        store = app.extensions["ld_adapter"].store
        try:
            started = time.perf_counter()
            load_messages(store, count)
            loaded = time.perf_counter() - started
            client = app.test_client()
            sign_in(client, store, settings)
            samples = []
            for _ in range(renders + 3):
                start = time.perf_counter()
                response = client.get("/console/")
                samples.append(time.perf_counter() - start)
                assert response.status_code == 200
            samples = samples[3:]  # the first renders fill caches (templates, partners)
            return loaded, statistics.median(samples), max(samples)
        finally:
            store.dispose()


def console_section(_median: Median, count: int = MESSAGES) -> list[str]:
    """The overview's render time (p50 and slowest of 30) per database."""
    rows = []
    for name in ["SQLite", *(["PostgreSQL"] if os.environ.get(POSTGRES_ENV) else [])]:
        loaded, p50, slowest = overview_render(name, count)
        rows.append(
            f"| {name} | {count:,} | {p50 * 1e3:.1f} ms | {slowest * 1e3:.1f} ms | {loaded:.0f} s |"
        )
    return [
        "## Console overview render time",
        "",
        "GET /console/ (signed in, Flask test client) with the messages inserted straight into the "
        "outbox and attempt tables: 90 % delivered, 5 % dead-lettered, 3 % retrying, 2 % queued, "
        "over 10 partners and 30 days, then ANALYZE. The overview counts by indexes "
        "(attempts by time, waiting and dead-lettered messages by status), never every message.",
        "",
        "| database | messages | p50 of 30 renders | slowest | loading them |",
        "| --- | --- | --- | --- | --- |",
        *rows,
        "",
    ]


SECTIONS = [console_section]

if __name__ == "__main__":
    wanted = int(sys.argv[1]) if len(sys.argv) > 1 else MESSAGES
    print("\n".join(console_section(lambda action, repeats: 0.0, wanted)))
