"""Referral records: the native referral as received, its status and its FHIR resource ids."""

from __future__ import annotations

import builtins
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from adapter.errors import Conflict, Issue
from adapter.store.tables import referral, referral_version
from adapter.store.versioned import record_row, replace_row, row_record

F = referral.c


@dataclass(frozen=True)
class ReferralRecord:
    """One stored referral; `version` starts at 1 and grows with each update."""

    id: str
    version: int
    created_at: datetime
    updated_at: datetime
    local_id: str
    status: str
    received_at: datetime
    source: str
    setting: str
    site: str
    urgency: str
    nhs_number: str | None = None
    native: dict = field(default_factory=dict)
    resource_ids: dict = field(default_factory=dict)
    warnings: list = field(default_factory=list)


@dataclass(frozen=True)
class ReferralFilters:
    """Optional filters for listing referrals; received_from and received_to are inclusive."""

    status: str | None = None
    source: str | None = None
    setting: str | None = None
    site: str | None = None
    urgency: str | None = None
    nhs_number: str | None = None
    local_id: str | None = None
    received_from: datetime | None = None
    received_to: datetime | None = None


_EQUALITY_FILTERS = ("status", "source", "setting", "site", "urgency", "nhs_number", "local_id")


class ReferralRepository:
    """Referral records, with every earlier version kept in referral_version."""

    def __init__(self, connection: Connection) -> None:
        self._db = connection

    def add(self, record: ReferralRecord) -> ReferralRecord:
        """Store a new record as version 1; Conflict if its id or local_id is taken."""
        stored = replace(record, id=record.id or str(uuid.uuid4()), version=1)
        try:
            # No savepoint: after a Conflict the caller's whole unit of work rolls back anyway.
            self._db.execute(referral.insert(), record_row(stored))
        except sa.exc.IntegrityError:
            raise Conflict(
                Issue(
                    "A referral with this local_id has already been received.",
                    code="duplicate",
                    expression=("local_id",),
                )
            ) from None
        return stored

    def get(self, record_id: str) -> ReferralRecord | None:
        """The record, or None."""
        row = self._db.execute(sa.select(referral).where(F.id == record_id)).first()
        return row_record(ReferralRecord, row) if row else None

    def get_by_local_id(self, local_id: str) -> ReferralRecord | None:
        """The record with the sending system's id, or None."""
        row = self._db.execute(sa.select(referral).where(F.local_id == local_id)).first()
        return row_record(ReferralRecord, row) if row else None

    def update(self, record: ReferralRecord, expected_version: int | None = None) -> ReferralRecord:
        """Store the record as the next version; the replaced one goes to history."""
        version, created_at = replace_row(
            self._db, referral, referral_version, record_row(record), expected_version, "referral"
        )
        return replace(record, version=version, created_at=created_at)

    def list(
        self, filters: ReferralFilters, limit: int, offset: int
    ) -> tuple[builtins.list[ReferralRecord], int]:
        """A page of records (newest received first) and how many match in all."""
        if any("\x00" in (getattr(filters, name) or "") for name in _EQUALITY_FILTERS):
            return [], 0  # no stored value contains NUL (PostgreSQL cannot even compare it)
        where = [
            getattr(F, name) == getattr(filters, name)
            for name in _EQUALITY_FILTERS
            if getattr(filters, name) is not None
        ]
        if filters.received_from is not None:
            where.append(F.received_at >= filters.received_from)
        if filters.received_to is not None:
            where.append(F.received_at <= filters.received_to)
        total = self._db.execute(sa.select(sa.func.count()).select_from(referral).where(*where))
        rows = self._db.execute(
            sa.select(referral)
            .where(*where)
            .order_by(F.received_at.desc(), F.id)
            .limit(limit)
            .offset(offset)
        )
        return [row_record(ReferralRecord, row) for row in rows], total.scalar_one()
