"""New rows for several tables in one statement on PostgreSQL: one round trip per write.

A referral's six resources went to the database as six statements (resource, its version, four
index tables), and its AuditEvent as seven more; each statement is a round trip and, with
executemany, one execution per row. On PostgreSQL each table's rows travel as one JSON array
and its INSERT ... SELECT FROM json_to_recordset(...) is a data-modifying WITH clause of one
statement (foreign keys are checked when it ends, so index rows may name resources inserted
beside them).
SQLite has no round trips to save: it runs one executemany per table.
"""

from __future__ import annotations

import functools

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection

from adapter.store.tables import UTCDateTime

_SQL_TYPES = ((UTCDateTime, "timestamptz"), (sa.Integer, "integer"), (sa.String, "text"))
_POSTGRES = postgresql.dialect()


def insert_rows(connection: Connection, rows: dict[sa.Table, list[dict]]) -> None:
    """Insert each table's rows (all rows of a table have the same keys), tables in order."""
    filled = [(table, table_rows) for table, table_rows in rows.items() if table_rows]
    if not filled:
        return
    if connection.dialect.name != "postgresql":
        for table, table_rows in filled:
            connection.execute(table.insert(), table_rows)
        return
    parameters: dict[str, str] = {}
    sent: dict[int, str] = {}  # the same list for two tables (resource, its version) goes once
    inserts = []
    for table, table_rows in filled:
        key = sent.setdefault(id(table_rows), f"rows{len(sent)}")
        if key not in parameters:
            parameters[key] = _json_rows(table, table_rows)
        inserts.append(_insert(table, list(table_rows[0]), key))
    *first, last = inserts
    with_clauses = ", ".join(f"w{i} AS ({insert})" for i, insert in enumerate(first))
    statement = f"WITH {with_clauses} {last}" if first else last
    connection.execute(_text(statement), parameters)


@functools.lru_cache(maxsize=64)
def _text(statement: str) -> sa.TextClause:
    """A statement's parsed form, kept: a referral's and an AuditEvent's shapes recur."""
    return sa.text(statement)


def _json_rows(table: sa.Table, rows: list[dict]) -> str:
    """The rows as one JSON array (orjson escapes in C; psycopg's text arrays in Python)."""
    moments = [c.name for c in table.c if isinstance(c.type, UTCDateTime)]
    if moments:
        rows = [
            {**row, **{m: _utc(table.c[m], row[m]) for m in moments if m in row}} for row in rows
        ]
    return orjson.dumps(rows).decode()


def _utc(column: sa.Column, value: object) -> object:
    """What the column's type does to one bound value (UTC, out-of-range years clamped)."""
    kind = column.type
    assert isinstance(kind, UTCDateTime)
    return kind.process_bind_param(value, _POSTGRES)  # type: ignore[arg-type]


def _insert(table: sa.Table, names: list[str], key: str) -> str:
    columns = ", ".join(f"{name} {_sql_type(table.c[name])}" for name in names)
    listed = ", ".join(names)
    return (
        f"INSERT INTO {table.name} ({listed}) SELECT {listed} "
        f"FROM json_to_recordset(CAST(:{key} AS json)) AS x({columns})"
    )


def _sql_type(column: sa.Column) -> str:
    for kind, sql_type in _SQL_TYPES:
        if isinstance(column.type, kind):
            return sql_type
    raise TypeError(f"no SQL type for {column.table.name}.{column.name}")
