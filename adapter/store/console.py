"""What the operations console reads and keeps: attempts, sign-in links, counts for the overview.

Every query here is served by an index (migration 0010): the overview counts attempts by time and
pending or dead-lettered messages by status, never reading every message ever sent.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from adapter.exchange.model import DEAD_LETTER, PENDING_STATES, RETRYING
from adapter.store.tables import (
    console_link,
    inbound_message,
    inbound_rejection,
    outbox_attempt,
    outbox_message,
)

A, M, L = outbox_attempt.c, outbox_message.c, console_link.c
IN, R = inbound_message.c, inbound_rejection.c


@dataclass(frozen=True)
class Attempt:
    """One delivery attempt: when, what it left the message as, the partner's answer."""

    at: datetime
    result: str
    status_code: int | None
    error: str | None
    partner_outcome: dict | None
    worker: str | None


@dataclass(frozen=True)
class LinkHolder:
    """Whom a one-time sign-in link was made for."""

    subject: str
    name: str
    role: str


class ConsoleRepository:
    """The console's tables, and its read-only queries over the outbox and inbound messages."""

    def __init__(self, connection: Connection) -> None:
        self._db = connection

    def add_attempt(self, message_id: str, endpoint_id: str, values: dict[str, Any]) -> None:
        """Record one attempt (values: at, result, status_code, error, partner_outcome, worker)."""
        outcome = values.get("partner_outcome")
        row = {
            **values,
            "partner_outcome": orjson.dumps(outcome).decode() if outcome is not None else None,
        }
        self._db.execute(
            outbox_attempt.insert().values(message_id=message_id, endpoint_id=endpoint_id, **row)
        )

    def attempts(self, message_id: str) -> builtins.list[Attempt]:
        """A message's attempts, oldest first."""
        rows = self._db.execute(
            sa.select(A.at, A.result, A.status_code, A.error, A.partner_outcome, A.worker)
            .where(A.message_id == message_id)
            .order_by(A.at, A.row_id)
        )
        return [
            Attempt(
                row.at,
                row.result,
                row.status_code,
                row.error,
                orjson.loads(row.partner_outcome) if row.partner_outcome else None,
                row.worker,
            )
            for row in rows
        ]

    def add_link(self, token_hash: str, holder: LinkHolder, expires_at: datetime) -> None:
        """Keep a new sign-in link (its token's hash only)."""
        self._db.execute(
            console_link.insert().values(
                token_hash=token_hash,
                subject=holder.subject,
                name=holder.name,
                role=holder.role,
                expires_at=expires_at,
            )
        )

    def use_link(self, token_hash: str, now: datetime) -> LinkHolder | None:
        """Burn an unused, unexpired link and say whom it was for; None if it cannot be used."""
        row = self._db.execute(
            console_link.update()
            .where(L.token_hash == token_hash, L.used_at.is_(None), L.expires_at > now)
            .values(used_at=now)
            .returning(L.subject, L.name, L.role)
        ).first()
        return LinkHolder(row.subject, row.name, row.role) if row else None

    def add_rejection(self, at: datetime, status_code: int, client_id: str | None) -> None:
        """Count one refused inbound message."""
        self._db.execute(
            inbound_rejection.insert().values(at=at, status_code=status_code, client_id=client_id)
        )

    def waiting_by_endpoint(self) -> dict[str, dict[str, Any]]:
        """Per endpoint: how many are queued, retrying, dead-lettered, and the oldest waiting."""
        rows = self._db.execute(
            sa.select(M.endpoint_id, M.status, sa.func.count(), sa.func.min(M.created_at))
            .where(M.status.in_((*PENDING_STATES, DEAD_LETTER)))
            .group_by(M.endpoint_id, M.status)
        )
        found: dict[str, dict[str, Any]] = {}
        for endpoint_id, status, count, oldest in rows:
            counts = found.setdefault(endpoint_id, {"oldest_waiting": None})
            counts[status] = count
            if status in PENDING_STATES and oldest is not None:
                earlier = counts["oldest_waiting"]
                counts["oldest_waiting"] = oldest if earlier is None else min(earlier, oldest)
        return found

    def attempts_since(self, since: datetime) -> dict[tuple[str, str], int]:
        """Attempts since `since`, counted per (endpoint, result)."""
        rows = self._db.execute(
            sa.select(A.endpoint_id, A.result, sa.func.count())
            .where(A.at >= since)
            .group_by(A.endpoint_id, A.result)
        )
        return {(endpoint_id, result): count for endpoint_id, result, count in rows}

    def last_attempt(self, endpoint_id: str, result: str) -> datetime | None:
        """When an attempt to this endpoint last ended as `result` (delivered: last success)."""
        return self._db.execute(
            sa.select(sa.func.max(A.at)).where(A.endpoint_id == endpoint_id, A.result == result)
        ).scalar_one()

    def last_failure(self, endpoint_id: str) -> datetime | None:
        """When an attempt to this endpoint last failed (retrying or dead-lettered)."""
        # One max per result: each is one step down the index; an IN list would scan both ranges.
        found = [self.last_attempt(endpoint_id, result) for result in (RETRYING, DEAD_LETTER)]
        return max((when for when in found if when is not None), default=None)

    def inbound_counts(self, since: datetime) -> tuple[int, int]:
        """Inbound messages accepted and refused since `since`."""
        accepted = sa.select(sa.func.count()).select_from(inbound_message)
        refused = sa.select(sa.func.count()).select_from(inbound_rejection)
        return (
            self._db.execute(accepted.where(IN.received_at >= since)).scalar_one(),
            self._db.execute(refused.where(R.at >= since)).scalar_one(),
        )

    def outbound_page(self, filters: MessageFilters, limit: int, offset: int) -> list[Any]:
        """A page of outbox rows (no bodies), newest first; one more than `limit` if more."""
        query = sa.select(
            M.id, M.kind, M.status, M.endpoint_id, M.attempts, M.created_at, M.last_error
        )
        if filters.partner:
            query = query.where(M.endpoint_id == filters.partner)
        if filters.status:
            query = query.where(M.status == filters.status)
        if filters.since:
            query = query.where(M.created_at >= filters.since)
        if filters.until:
            query = query.where(M.created_at < filters.until)
        page = query.order_by(M.sequence.desc()).limit(limit + 1).offset(offset)
        return list(self._db.execute(page))

    def inbound_page(self, filters: MessageFilters, limit: int, offset: int) -> list[Any]:
        """A page of accepted inbound messages (no bodies), newest first; one more if more."""
        query = sa.select(IN.id, IN.event, IN.partner_service, IN.sender_endpoint, IN.received_at)
        if filters.partner:
            query = query.where(IN.partner_service == filters.partner)
        if filters.since:
            query = query.where(IN.received_at >= filters.since)
        if filters.until:
            query = query.where(IN.received_at < filters.until)
        page = query.order_by(IN.received_at.desc(), IN.id).limit(limit + 1).offset(offset)
        return list(self._db.execute(page))


@dataclass(frozen=True)
class MessageFilters:
    """The message list's filters, each optional."""

    partner: str | None = None
    status: str | None = None
    since: datetime | None = None
    until: datetime | None = None
