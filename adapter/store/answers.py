"""Referral answers: decisions and outcomes about a referral a partner sent us."""

from __future__ import annotations

import builtins
import uuid
from dataclasses import asdict, dataclass, replace
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from adapter.store.tables import referral_answer

A = referral_answer.c


@dataclass(frozen=True)
class ReferralAnswerRecord:
    """One answer; message_id is the outbox message that carries it back to the partner."""

    id: str
    referral_id: str
    kind: str  # decision | outcome
    code: str
    reason: str | None
    recorded_at: datetime
    recorded_by: str | None = None
    message_id: str | None = None


class ReferralAnswerRepository:
    """Answers are kept, never changed: a new answer is a new row."""

    def __init__(self, connection: Connection) -> None:
        self._db = connection

    def add(self, record: ReferralAnswerRecord) -> ReferralAnswerRecord:
        """Store the answer (a new uuid if its id is empty)."""
        stored = replace(record, id=record.id or str(uuid.uuid4()))
        self._db.execute(referral_answer.insert(), asdict(stored))
        return stored

    def for_referral(self, referral_id: str) -> builtins.list[ReferralAnswerRecord]:
        """The referral's answers, oldest first."""
        rows = self._db.execute(
            sa.select(referral_answer)
            .where(A.referral_id == referral_id)
            .order_by(A.recorded_at, A.id)
        )
        return [ReferralAnswerRecord(**row._mapping) for row in rows]
