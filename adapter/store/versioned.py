"""Rows that keep every earlier version in a history table (referrals, assessments)."""

from __future__ import annotations

from dataclasses import fields
from datetime import UTC, datetime
from typing import TypeVar

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from adapter.errors import NotFound, PreconditionFailed

Record = TypeVar("Record")


def replace_row(
    db: Connection,
    table: sa.Table,
    history: sa.Table,
    row: dict,
    expected_version: int | None,
    what: str,
) -> tuple[int, datetime]:
    """Move the current row to history and store `row` as the next version.

    Returns the new version and the original created_at. NotFound if there is no such row,
    PreconditionFailed if expected_version is given and is not the current one.
    """
    current = db.execute(sa.select(table).where(table.c.id == row["id"]).with_for_update()).first()
    if current is None:
        raise NotFound(f"There is no {what} with this id.")
    if expected_version is not None and expected_version != current.version:
        raise PreconditionFailed(
            f"The {what} is at version {current.version}, not {expected_version}."
        )
    db.execute(history.insert(), dict(current._mapping))
    created_at = current.created_at
    created_at = created_at if created_at.tzinfo else created_at.replace(tzinfo=UTC)
    values = {**row, "version": current.version + 1, "created_at": created_at}
    del values["id"]
    db.execute(table.update().where(table.c.id == row["id"]).values(values))
    return current.version + 1, created_at


_JSON_COLUMNS = ("native", "resource_ids", "warnings", "outcomes")


def record_row(record: object) -> dict:
    """A record dataclass as a row: its JSON fields serialised to text."""
    # Shallow: asdict would deep-copy the native JSON only for it to be serialised next.
    row = {f.name: getattr(record, f.name) for f in fields(record)}  # type: ignore[arg-type]
    for column in _JSON_COLUMNS:
        if column in row:
            row[column] = orjson.dumps(row[column]).decode()
    return row


def row_record(record_type: type[Record], row: Row) -> Record:
    """A row as a record dataclass: its JSON columns parsed."""
    values = dict(row._mapping)
    for column in _JSON_COLUMNS:
        if column in values:
            values[column] = orjson.loads(values[column])
    return record_type(**values)
