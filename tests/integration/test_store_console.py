"""The console's store: attempts kept in order, links burnt once, overview counts by index."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from adapter.exchange.model import Delivered, TryAgain
from adapter.exchange.outcomes import record_result
from adapter.services import console_view
from adapter.store import Store
from adapter.store.console import LinkHolder
from tests.integration.store_fixtures import *  # noqa: F403
from tests.support.console_load import load_messages
from tests.support.outbox import message


def _attempt(store: Store, result: object, at: datetime) -> None:
    with store.unit_of_work() as uow:
        (claimed,) = uow.outbox.claim("w", at, at + timedelta(minutes=1), 1)
        assert record_result(uow, claimed, result, "w", at, 0)  # type: ignore[arg-type]


def test_each_attempt_is_kept_in_order_with_what_it_left(store: Store) -> None:
    queued = message()
    with store.unit_of_work() as uow:
        uow.outbox.add(queued)
    first = datetime.now(UTC)
    _attempt(store, TryAgain("HTTP 503", 503), first)
    _attempt(store, Delivered(200), first + timedelta(seconds=1))
    with store.unit_of_work(read_only=True) as uow:
        attempts = uow.console.attempts(queued.id)
    assert [(a.result, a.status_code, a.error) for a in attempts] == [
        ("retrying", 503, "HTTP 503"),
        ("delivered", 200, None),
    ]
    row = console_view.overview(store).rows[0]
    assert (row.hour.get("delivered"), row.hour.get("retrying"), row.queued) == (1, 1, 0)


def test_a_link_is_used_once_and_never_after_it_expires(store: Store) -> None:
    now = datetime.now(UTC)
    with store.unit_of_work() as uow:
        uow.console.add_link(
            "a" * 64, LinkHolder("s", "Sam", "operator"), now + timedelta(minutes=5)
        )
        uow.console.add_link(
            "b" * 64, LinkHolder("s", "Sam", "operator"), now - timedelta(seconds=1)
        )
    with store.unit_of_work() as uow:
        assert uow.console.use_link("a" * 64, now) == LinkHolder("s", "Sam", "operator")
        assert uow.console.use_link("a" * 64, now) is None
        assert uow.console.use_link("b" * 64, now) is None


@pytest.mark.postgres
def test_the_overview_reads_by_index_not_by_scanning_every_message(postgres_url: str) -> None:
    from adapter.store.testing import clear

    store = Store.from_url(postgres_url)
    clear(store)
    try:
        load_messages(store, 20_000)
        statements: list[tuple[str, object]] = []

        def capture(_conn, _cursor, statement, parameters, _context, _many) -> None:  # type: ignore[no-untyped-def]
            if "outbox" in statement:  # the loaded tables (inbound ones are empty: scans are right)
                statements.append((statement, parameters))

        sa.event.listen(store.engine, "before_cursor_execute", capture)
        console_view.overview(store)
        sa.event.remove(store.engine, "before_cursor_execute", capture)
        assert len(statements) >= 5
        with store.engine.connect() as connection:
            for statement, parameters in statements:
                plan = connection.exec_driver_sql(f"EXPLAIN {statement}", parameters).scalars()
                text = "\n".join(plan)
                assert "Seq Scan" not in text, f"{statement}\n{text}"
    finally:
        clear(store)
        store.dispose()
