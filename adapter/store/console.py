"""What the operations console reads and keeps: attempts, sign-in links, counts for the overview.

Every query here is served by an index (migration 0010): the overview counts attempts by time and
pending or dead-lettered messages by status, never reading every message ever sent.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from adapter.exchange.model import DEAD_LETTER, PENDING_STATES
from adapter.store.tables import (
    UTCDateTime,
    console_link,
    console_session,
    inbound_message,
    inbound_rejection,
    outbox_attempt,
    outbox_message,
    resource,
)

A, M, L = outbox_attempt.c, outbox_message.c, console_link.c
IN, R, S = inbound_message.c, inbound_rejection.c, console_session.c
_COLUMNS = 300  # probes in one statement
_A_DAY = timedelta(days=1)


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

    def add_session(
        self, session_hash: str, subject: str, now: datetime, expires_at: datetime
    ) -> None:
        """Keep a new console session (its id's hash only); forget sessions over for a day."""
        over = sa.or_(S.expires_at < now - _A_DAY, S.ended_at < now - _A_DAY)
        self._db.execute(console_session.delete().where(over))
        self._db.execute(
            console_session.insert().values(
                session_hash=session_hash, subject=subject, expires_at=expires_at
            )
        )

    def session_active(self, session_hash: str, now: datetime) -> bool:
        """True while the session has neither ended (signed out) nor expired."""
        found = self._db.execute(
            sa.select(S.session_hash).where(
                S.session_hash == session_hash, S.ended_at.is_(None), S.expires_at > now
            )
        ).first()
        return found is not None

    def end_session(self, session_hash: str, now: datetime) -> None:
        """Sign a session out: its cookie is refused from now on."""
        self._db.execute(
            console_session.update().where(S.session_hash == session_hash).values(ended_at=now)
        )

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
        # SQLite, after ANALYZE, would rather walk every attempt ever made in the order of
        # ix_outbox_attempt_endpoint (to group without sorting) than read the day's range: a cost
        # that grows with the table. INDEXED BY holds it to the range.
        hint = " INDEXED BY ix_outbox_attempt_at" if self._db.dialect.name == "sqlite" else ""
        query = sa.text(
            f"SELECT endpoint_id, result, count(*) FROM outbox_attempt{hint}"
            " WHERE at >= :since GROUP BY endpoint_id, result"
        ).bindparams(sa.bindparam("since", type_=UTCDateTime()))
        rows = self._db.execute(query, {"since": since})
        return {(endpoint_id, result): count for endpoint_id, result, count in rows}

    def last_attempts(
        self, endpoint_ids: builtins.list[str], results: tuple[str, ...]
    ) -> dict[tuple[str, str], datetime]:
        """When an attempt to each endpoint last ended as each result (delivered: last success).

        One statement of index probes (a max per endpoint and result): a round trip per partner
        cost more than all the probes together.
        """
        pairs = [(endpoint_id, result) for endpoint_id in endpoint_ids for result in results]
        found: dict[tuple[str, str], datetime] = {}
        for start in range(0, len(pairs), _COLUMNS):
            chunk = pairs[start : start + _COLUMNS]
            probes = [
                sa.select(sa.func.max(A.at))
                .where(A.endpoint_id == endpoint_id, A.result == result)
                .scalar_subquery()
                .label(f"p{index}")
                for index, (endpoint_id, result) in enumerate(chunk)
            ]
            row = self._db.execute(sa.select(*probes)).one()
            found.update({pair: when for pair, when in zip(chunk, row, strict=True) if when})
        return found

    def inbound_counts(self, since: datetime) -> tuple[int, int]:
        """Inbound messages accepted and refused since `since`."""
        accepted = sa.select(sa.func.count()).select_from(inbound_message)
        refused = sa.select(sa.func.count()).select_from(inbound_rejection)
        return (
            self._db.execute(accepted.where(IN.received_at >= since)).scalar_one(),
            self._db.execute(refused.where(R.at >= since)).scalar_one(),
        )

    def newest_audit_events(self, limit: int, offset: int) -> builtins.list[dict]:
        """AuditEvents, newest first (ix_resource_type_updated), `limit` + 1 to tell if more."""
        rows = self._db.execute(
            sa.select(resource.c.content)
            .where(resource.c.resource_type == "AuditEvent")
            .order_by(resource.c.last_updated.desc(), resource.c.id)
            .limit(limit + 1)
            .offset(offset)
        ).scalars()
        return [orjson.loads(content) for content in rows]

    def outbound_page(self, filters: MessageFilters, limit: int, offset: int) -> list[Any]:
        """A page of outbox rows (no bodies), newest first; one more than `limit` if more."""
        query = sa.select(
            M.id, M.kind, M.status, M.endpoint_id, M.attempts, M.created_at, M.last_error
        )
        query = _filtered(query, filters, M.endpoint_id, M.created_at)
        if filters.status:
            query = query.where(M.status == filters.status)
        page = query.order_by(M.sequence.desc()).limit(limit + 1).offset(offset)
        return list(self._db.execute(page))

    def inbound_page(self, filters: MessageFilters, limit: int, offset: int) -> list[Any]:
        """A page of accepted inbound messages (no bodies), newest first; one more if more."""
        query = sa.select(IN.id, IN.event, IN.partner_service, IN.sender_endpoint, IN.received_at)
        query = _filtered(query, filters, IN.partner_service, IN.received_at)
        page = query.order_by(IN.received_at.desc(), IN.id).limit(limit + 1).offset(offset)
        return list(self._db.execute(page))


@dataclass(frozen=True)
class MessageFilters:
    """The message list's filters, each optional."""

    partner: str | None = None
    status: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def _filtered(query: sa.Select, filters: MessageFilters, partner: Any, at: Any) -> sa.Select:
    """The query narrowed to the filters' partner (in `partner`) and days (by `at`)."""
    if filters.partner:
        query = query.where(partner == filters.partner)
    if filters.since:
        query = query.where(at >= filters.since)
    if filters.until:
        query = query.where(at < filters.until)
    return query
