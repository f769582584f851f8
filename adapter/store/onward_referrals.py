"""Onward referral records: a referral passed on to a partner, with its FHIR resource ids."""

from __future__ import annotations

import builtins
from dataclasses import dataclass, field, replace
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from adapter.errors import Conflict, Issue, NotFound
from adapter.store.tables import onward_referral
from adapter.store.versioned import record_row, row_record

R = onward_referral.c
# How a GP practice's infrastructure ack reads in the stored outcomes JSON (orjson: no spaces).
_INFRASTRUCTURE_ACK = '"acknowledgement":"infrastructure"'


@dataclass(frozen=True)
class OnwardReferralRecord:
    """One stored onward referral; `version` starts at 1 and grows with each update."""

    id: str
    version: int
    referral_id: str
    created_at: datetime
    updated_at: datetime
    pathway: str  # a code of the ld-onward-referral value set
    partner_service: str  # the partner's HealthcareService id
    status: str  # active | cancelled | rejected | completed (the last two: the partner said)
    correlation_id: str  # X-Correlation-Id of every message about it
    native: dict = field(default_factory=dict)  # the request as given, normalised
    # {"service_request": "ServiceRequest/…", "task": "Task/…", "consents": [...], "patient": …}
    resource_ids: dict = field(default_factory=dict)
    # Every response the partner sent about it, oldest first:
    # {"status", "reason", "at", "message_id"} (the inbound message's id).
    outcomes: list = field(default_factory=list)


class OnwardReferralRepository:
    """Onward referral records (optimistic versioning; the FHIR resources keep the history)."""

    def __init__(self, connection: Connection) -> None:
        self._db = connection

    def add(self, record: OnwardReferralRecord) -> OnwardReferralRecord:
        """Store a new record as version 1."""
        stored = replace(record, version=1)
        self._db.execute(onward_referral.insert(), record_row(stored))
        return stored

    def get(self, record_id: str) -> OnwardReferralRecord | None:
        """The record, or None."""
        row = self._db.execute(sa.select(onward_referral).where(R.id == record_id)).first()
        return row_record(OnwardReferralRecord, row) if row else None

    def update(
        self, record: OnwardReferralRecord, expected_version: int | None = None
    ) -> OnwardReferralRecord:
        """Store the record as the next version; Conflict if expected_version is not current."""
        current = self._db.execute(
            sa.select(R.version, R.created_at).where(R.id == record.id).with_for_update()
        ).first()
        if current is None:
            raise NotFound("There is no onward referral with this id.")
        if expected_version is not None and expected_version != current.version:
            raise Conflict(
                Issue(
                    f"The onward referral is at version {current.version}, "
                    f"not {expected_version}; read it again.",
                    code="conflict",
                )
            )
        stored = replace(record, version=current.version + 1, created_at=current.created_at)
        values = record_row(stored)
        del values["id"]
        self._db.execute(onward_referral.update().where(R.id == record.id).values(values))
        return stored

    def for_referral(self, referral_id: str) -> builtins.list[OnwardReferralRecord]:
        """The referral's onward referrals, oldest first."""
        rows = self._db.execute(
            sa.select(onward_referral)
            .where(R.referral_id == referral_id)
            .order_by(R.created_at, R.id)
        )
        return [row_record(OnwardReferralRecord, row) for row in rows]

    def active_created_before(
        self, before: datetime, limit: int = 1000
    ) -> builtins.list[OnwardReferralRecord]:
        """Active onward referrals made before `before` with no answer yet, oldest first.

        A GP practice's infrastructure acknowledgement (its system took our document) is no
        answer: only its business one (filed) is, and that completes the onward referral.
        """
        unanswered = sa.or_(R.outcomes == "[]", R.outcomes.like(f"%{_INFRASTRUCTURE_ACK}%"))
        rows = self._db.execute(
            sa.select(onward_referral)
            .where(R.status == "active", R.created_at < before, unanswered)
            .order_by(R.created_at, R.id)
            .limit(limit)
        )
        records = [row_record(OnwardReferralRecord, row) for row in rows]
        return [r for r in records if all(_is_infrastructure_ack(o) for o in r.outcomes)]

    def newest(self, limit: int, offset: int) -> tuple[builtins.list[OnwardReferralRecord], int]:
        """A page of onward referrals, newest first, and how many there are."""
        total = self._db.execute(sa.select(sa.func.count()).select_from(onward_referral))
        rows = self._db.execute(
            sa.select(onward_referral)
            .order_by(R.created_at.desc(), R.id)
            .limit(limit)
            .offset(offset)
        )
        return [row_record(OnwardReferralRecord, row) for row in rows], total.scalar_one()


def _is_infrastructure_ack(outcome: dict) -> bool:
    return outcome.get("acknowledgement") == "infrastructure"


def onward_lock_key(onward_id: str) -> str:
    """The lock key one onward referral's changes take (worker, cancel, response, GP ack).

    All take it before reading the record and its Task, so the Task moves one way at a time.
    """
    return f"onward-referral:{onward_id}"
