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
from tests.integration.store_fixtures import LOCAL, NHS, seed


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


def _rows_read(plan: dict) -> int:
    """Rows a plan node and its children produced or filtered out, over all their loops."""
    own = (plan.get("Actual Rows", 0) + plan.get("Rows Removed by Filter", 0)) * plan.get(
        "Actual Loops", 1
    )
    return own + sum(_rows_read(child) for child in plan.get("Plans", []))


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_identity_match_reads_few_rows_when_statistics_are_stale(store: Store) -> None:
    """400 Patients in a never-ANALYZEd store (autovacuum off): a match must not walk them all.

    The single join with an OR over the identifiers read every Patient's identifier rows per
    referral (2,818 rows at 400 Patients), so intake slowed as the store grew.
    """
    patients = [
        {
            "resourceType": "Patient",
            "id": f"p{i}",
            "identifier": [
                {"system": NHS, "value": f"{9000000000 + i}"},
                {"system": LOCAL, "value": f"L-{i}"},
            ],
        }
        for i in range(400)
    ]
    with store.unit_of_work() as uow:
        uow.resources.create_many(patients)
    explained: list[dict] = []

    def _explain(connection, _cursor, statement, parameters, _context, _many):  # type: ignore[no-untyped-def]
        if statement.startswith("SELECT") and not connection.info.get("explaining"):
            connection.info["explaining"] = True
            try:
                plan = connection.exec_driver_sql(
                    f"EXPLAIN (ANALYZE, FORMAT JSON) {statement}", parameters
                ).scalar_one()
            finally:
                connection.info["explaining"] = False
            explained.append(plan[0]["Plan"])

    sa.event.listen(store.engine, "before_cursor_execute", _explain)
    try:
        with store.unit_of_work() as uow:
            found = uow.resources.find_by_identifiers(
                "Patient", [(NHS, "9000000399"), (LOCAL, "L-7")]
            )
            missing = uow.resources.find_by_identifiers(
                "Patient", [(NHS, "9999999999"), (LOCAL, "L-none")]
            )
            holders = uow.resources.find_all_by_identifier("Patient", LOCAL, "L-7")
    finally:
        sa.event.remove(store.engine, "before_cursor_execute", _explain)
    assert found is not None and found["id"] == "p399"
    assert missing is None
    assert [holder["id"] for holder in holders] == ["p7"]
    assert explained and all(_rows_read(plan) < 20 for plan in explained), [
        _rows_read(plan) for plan in explained
    ]


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_foreign_key_checks_on_a_long_lived_connection_use_the_primary_key(store: Store) -> None:
    """The server's own cached plans (foreign key checks) are made for the tables as they are."""
    from adapter.services import audit

    def event(i: int) -> dict:
        entity = [audit.Entity(f"Bundle/b{i}")]
        return audit.audit_event("operation", "0", audit.Requestor("w"), "http://x", entity)

    plans: list[str] = []
    with store.engine.connect() as connection:
        # One connection throughout, as a pooled worker's: the first checks are planned while
        # `resource` is nearly empty.
        for i in range(1500):
            with connection.begin():
                audit.record(UnitOfWork(connection, store.registry), event(i))
        connection.connection.dbapi_connection.add_notice_handler(  # type: ignore[union-attr]
            lambda notice: plans.append(notice.message_primary or "")
        )
        with connection.begin():
            connection.exec_driver_sql("LOAD 'auto_explain'")
            for name, value in (("min_duration", "0"), ("level", "notice"), ("nested", "on")):
                name = "nested_statements" if name == "nested" else name
                connection.exec_driver_sql(f"SET LOCAL auto_explain.log_{name} = '{value}'")
            audit.record(UnitOfWork(connection, store.registry), event(1500))
    checks = [plan for plan in plans if "FOR KEY SHARE" in plan or "LockRows" in plan]
    assert checks and not any("ix_resource_type_updated" in plan for plan in checks)
