"""Helpers for test suites: a throwaway PostgreSQL schema and emptying every table."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

from adapter.store.store import Store
from adapter.store.tables import metadata


@contextmanager
def postgres_schema(url: str) -> Iterator[str]:
    """Create a uniquely named schema; yield a URL whose connections use it; drop it after."""
    schema = f"ld_test_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        parsed = sa.make_url(url)
        yield parsed.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
            hide_password=False
        )
    finally:
        with engine.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        engine.dispose()


def clear(store: Store) -> None:
    """Delete every row of the adapter's tables (the schema and alembic's version stay)."""
    with store.engine.begin() as connection:
        for table in reversed(metadata.sorted_tables):
            connection.execute(table.delete())


def schema_drift(store: Store) -> list:
    """Differences between the migrated database and the table metadata (empty when in step)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with store.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))
