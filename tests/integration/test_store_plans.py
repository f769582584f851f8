"""PostgreSQL plans stay fresh on a long-lived connection: psycopg prepares no statements.

A prepared statement keeps a generic plan made while the tables were small; a search that took
25 ms on a fresh connection took 6 s on one that had prepared it at 100 stored referrals.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from adapter.search.definitions import default_registry
from adapter.search.parse import parse_search
from adapter.store import Store, UnitOfWork
from tests.integration.store_fixtures import *  # noqa: F403  (store fixtures)
from tests.integration.store_fixtures import NHS, seed


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_repeated_searches_on_one_connection_prepare_nothing(store: Store) -> None:
    seed(store)
    query = parse_search(
        "ServiceRequest", [("patient:identifier", f"{NHS}|9990012342")], default_registry()
    ).query
    with store.engine.connect() as connection, connection.begin():
        uow = UnitOfWork(connection, store.registry)
        for _ in range(10):
            assert uow.resources.search("ServiceRequest", query).total == 2
        prepared = connection.execute(sa.text("SELECT count(*) FROM pg_prepared_statements"))
        assert prepared.scalar_one() == 0
