"""Assessment records: a screening or assessment as recorded, with its FHIR resource ids."""

from __future__ import annotations

import builtins
from dataclasses import dataclass, field, replace
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from adapter.store.tables import assessment, assessment_version
from adapter.store.versioned import record_row, replace_row, row_record

A = assessment.c


@dataclass(frozen=True)
class AssessmentRecord:
    """One stored assessment; `version` starts at 1 and grows with each amendment."""

    id: str
    version: int
    referral_id: str
    kind: str
    status: str
    created_at: datetime
    updated_at: datetime
    native: dict = field(default_factory=dict)
    resource_ids: dict = field(default_factory=dict)


class AssessmentRepository:
    """Assessment records, with every earlier version kept in assessment_version."""

    def __init__(self, connection: Connection) -> None:
        self._db = connection

    def add(self, record: AssessmentRecord) -> AssessmentRecord:
        """Store a new record as version 1."""
        stored = replace(record, version=1)
        self._db.execute(assessment.insert(), record_row(stored))
        return stored

    def get(self, record_id: str) -> AssessmentRecord | None:
        """The record, or None."""
        row = self._db.execute(sa.select(assessment).where(A.id == record_id)).first()
        return row_record(AssessmentRecord, row) if row else None

    def update(
        self, record: AssessmentRecord, expected_version: int | None = None
    ) -> AssessmentRecord:
        """Store the record as the next version; the replaced one goes to history."""
        version, created_at = replace_row(
            self._db,
            assessment,
            assessment_version,
            record_row(record),
            expected_version,
            "assessment",
        )
        return replace(record, version=version, created_at=created_at)

    def history(self, record_id: str) -> builtins.list[AssessmentRecord]:
        """Every earlier version, newest first (the current one is `get`)."""
        rows = self._db.execute(
            sa.select(assessment_version)
            .where(assessment_version.c.id == record_id)
            .order_by(assessment_version.c.version.desc())
        )
        return [row_record(AssessmentRecord, row) for row in rows]

    def for_referral(self, referral_id: str) -> builtins.list[AssessmentRecord]:
        """The referral's assessments, oldest first."""
        rows = self._db.execute(
            sa.select(assessment).where(A.referral_id == referral_id).order_by(A.created_at, A.id)
        )
        return [row_record(AssessmentRecord, row) for row in rows]
