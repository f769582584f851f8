"""The outbox: messages waiting for, or done with, delivery to partners; claimed under leases.

A worker claims a batch in one statement (`claim`): it leases each message it takes, and on
PostgreSQL skips rows another worker is claiming (FOR UPDATE SKIP LOCKED). Only the head of each
ordering_key is claimable, so messages about one person to one partner go in order. A result is
stored only by the lease holder (`finish`); a dead worker's lease runs out and another takes over.
"""

from __future__ import annotations

import builtins
from dataclasses import fields, replace
from datetime import UTC, datetime
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from adapter.errors import Conflict, Issue, NotFound
from adapter.exchange.model import (
    CANCELLED,
    DEAD_LETTER,
    DELIVERED,
    PENDING_STATES,
    QUEUED,
    OutboundMessage,
)
from adapter.store.tables import outbox_message

M = outbox_message.c
_JSON_COLUMNS = ("headers", "body", "partner_outcome")
_FIELDS = tuple(f.name for f in fields(OutboundMessage))


class OutboxRepository:
    """Outbound messages, in `sequence` order."""

    def __init__(self, connection: Connection) -> None:
        self._db = connection

    def add(self, message: OutboundMessage) -> OutboundMessage:
        """Queue a message (the caller sets created_at, next_attempt_at and expires_at)."""
        row = _row(message)
        del row["sequence"]
        if self._db.dialect.name == "sqlite":
            # No identity columns on SQLite; writers take turns (BEGIN IMMEDIATE): max + 1 is safe.
            highest = sa.select(sa.func.coalesce(sa.func.max(M.sequence), 0) + 1)
            row["sequence"] = highest.scalar_subquery()
        sequence = self._db.execute(outbox_message.insert().values(row).returning(M.sequence))
        return replace(message, sequence=sequence.scalar_one())

    def get(self, message_id: str) -> OutboundMessage | None:
        """The message, or None."""
        row = self._db.execute(sa.select(outbox_message).where(M.id == message_id)).first()
        return _message(row) if row else None

    def sent_as(self, local_id: str) -> OutboundMessage | None:
        """The message sent under MESH Mex-LocalID `local_id`: its id (GP Connect) or request id."""
        row = self._db.execute(
            sa.select(outbox_message).where(sa.or_(M.id == local_id, M.request_id == local_id))
        ).first()
        return _message(row) if row else None

    def undelivered(
        self, message_id: str, reason: str, outcome: dict | None = None
    ) -> OutboundMessage | None:
        """Dead-letter a delivered message found undelivered or refused after all (else None)."""
        row = self._db.execute(
            outbox_message.update()
            .where(M.id == message_id, M.status == DELIVERED)
            .values(
                status=DEAD_LETTER,
                last_error=reason,
                delivered_at=None,
                partner_outcome=orjson.dumps(outcome).decode() if outcome is not None else None,
            )
            .returning(*outbox_message.c)
        ).first()
        return _message(row) if row else None

    def for_onward_referral(self, onward_id: str) -> builtins.list[OutboundMessage]:
        """The messages about one onward referral, in the order they go."""
        rows = self._db.execute(
            sa.select(outbox_message).where(M.onward_referral_id == onward_id).order_by(M.sequence)
        )
        return [_message(row) for row in rows]

    def list(
        self, status: str | None, limit: int, offset: int
    ) -> tuple[builtins.list[OutboundMessage], int]:
        """A page of messages, newest first, and how many match in all."""
        where = [M.status == status] if status is not None else []
        total = self._db.execute(
            sa.select(sa.func.count()).select_from(outbox_message).where(*where)
        )
        rows = self._db.execute(
            sa.select(outbox_message)
            .where(*where)
            .order_by(M.sequence.desc())
            .limit(limit)
            .offset(offset)
        )
        return [_message(row) for row in rows], total.scalar_one()

    def cancel_pending(self, message_ids: builtins.list[str], now: datetime | None = None) -> int:
        """Cancel those of the messages still waiting; returns how many.

        A message a worker holds right now is left alone: it may already have arrived.
        """
        if not message_ids:
            return 0
        now = now or datetime.now(UTC)
        result = self._db.execute(
            outbox_message.update()
            .where(M.id.in_(message_ids), M.status.in_(PENDING_STATES), _not_leased(now))
            .values(status=CANCELLED, lease_owner=None, lease_expires_at=None)
        )
        return int(result.rowcount)

    def replay(
        self, message_id: str, expires_at: datetime, now: datetime | None = None
    ) -> OutboundMessage:
        """Queue a dead letter again: attempts 0, a new time to live, the same request id.

        What went wrong before (error, status, the partner's outcome) goes: it starts afresh.
        """
        now = now or datetime.now(UTC)
        fresh = {"attempts": 0, "next_attempt_at": now, "expires_at": expires_at}
        forgotten = {"last_error": None, "last_status_code": None, "partner_outcome": None}
        row = self._db.execute(
            outbox_message.update()
            .where(M.id == message_id, M.status == DEAD_LETTER)
            .values(status=QUEUED, **fresh, **forgotten)
            .returning(*outbox_message.c)
        ).first()
        if row is not None:
            return _message(row)
        if self.get(message_id) is None:
            raise NotFound("There is no message with this id.")
        raise Conflict(Issue("Only a dead-lettered message can be replayed.", code="business-rule"))

    def claim(
        self, owner: str, now: datetime, lease_until: datetime, limit: int
    ) -> builtins.list[OutboundMessage]:
        """Lease up to `limit` due messages, each the head of its ordering_key, oldest first."""
        earlier = outbox_message.alias("earlier")
        blocked = sa.exists().where(
            earlier.c.ordering_key == M.ordering_key,
            earlier.c.sequence < M.sequence,
            earlier.c.status.in_(PENDING_STATES),
        )
        due = (M.status.in_(PENDING_STATES), M.next_attempt_at <= now, _not_leased(now))
        picked = (
            sa.select(M.id)
            .where(*due, ~blocked)
            .order_by(M.sequence)
            .limit(limit)
            # SQLite has no SKIP LOCKED (SQLAlchemy drops it): its writers take turns anyway.
            .with_for_update(skip_locked=True, of=outbox_message)
            # A CTE, evaluated once: PostgreSQL may run a plain `IN (subquery)` more than once,
            # so a claim could take more than `limit` rows.
            .cte("picked")
        )
        rows = self._db.execute(
            outbox_message.update()
            .where(M.id.in_(sa.select(picked.c.id)), *due)
            .values(lease_owner=owner, lease_expires_at=lease_until)
            .returning(*outbox_message.c)
        ).all()
        return sorted((_message(row) for row in rows), key=lambda m: m.sequence)

    def finish(self, message_id: str, owner: str, values: dict[str, Any]) -> OutboundMessage | None:
        """Store an attempt's result and end the lease, if `owner` still holds it (else None)."""
        row_values = {**values, "lease_owner": None, "lease_expires_at": None}
        if row_values.get("partner_outcome") is not None:
            row_values["partner_outcome"] = orjson.dumps(row_values["partner_outcome"]).decode()
        row = self._db.execute(
            outbox_message.update()
            .where(M.id == message_id, M.lease_owner == owner, M.status.in_(PENDING_STATES))
            .values(row_values)
            .returning(*outbox_message.c)
        ).first()
        return _message(row) if row else None

    def renew(
        self, message_ids: builtins.list[str], owner: str, now: datetime, lease_until: datetime
    ) -> builtins.list[str]:
        """Extend the leases `owner` still holds (not yet run out); the ids it still holds."""
        if not message_ids:
            return []
        rows = self._db.execute(
            outbox_message.update()
            .where(
                M.id.in_(message_ids),
                M.lease_owner == owner,
                M.lease_expires_at > now,
                M.status.in_(PENDING_STATES),
            )
            .values(lease_expires_at=lease_until)
            .returning(M.id)
        )
        return [row.id for row in rows]

    def release(self, message_ids: builtins.list[str], owner: str) -> int:
        """Give back leases not used (a stopping worker), so others need not wait them out."""
        if not message_ids:
            return 0
        result = self._db.execute(
            outbox_message.update()
            .where(M.id.in_(message_ids), M.lease_owner == owner, M.status.in_(PENDING_STATES))
            .values(lease_owner=None, lease_expires_at=None)
        )
        return int(result.rowcount)


def _not_leased(now: datetime) -> sa.ColumnElement[bool]:
    return sa.or_(M.lease_expires_at.is_(None), M.lease_expires_at <= now)


def _row(message: OutboundMessage) -> dict:
    row = {name: getattr(message, name) for name in _FIELDS}
    for column in _JSON_COLUMNS:
        if row[column] is not None:
            row[column] = orjson.dumps(row[column]).decode()
    return row


def _message(row: Row) -> OutboundMessage:
    values = dict(row._mapping)
    for column in _JSON_COLUMNS:
        if values[column] is not None:
            values[column] = orjson.loads(values[column])
    return OutboundMessage(**values)
