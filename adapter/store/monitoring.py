"""What monitoring reads from the store: outbox depth and age, and delivery worker heartbeats.

Every query here is answered from an index (ix_outbox_message_status_next, the pending partial
index, ix_worker_heartbeat_beat_at), so a scrape costs the same with 100 or 100,000 messages.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from adapter.exchange.model import DEAD_LETTER, PENDING_STATES
from adapter.store.tables import outbox_message, worker_heartbeat

M = outbox_message.c
H = worker_heartbeat.c
# Delivered and cancelled messages only grow (their counters say how many): not counted here.
COUNTED_STATES = (*PENDING_STATES, DEAD_LETTER)
_FORGET_AFTER = timedelta(days=1)  # heartbeats of workers gone this long are removed


class MonitoringRepository:
    """Reads for /metrics and /readyz, and the heartbeat a delivery worker writes."""

    def __init__(self, connection: Connection) -> None:
        self._db = connection

    def queue_depth(self) -> dict[str, int]:
        """Messages waiting (queued, retrying) and dead-lettered, by status."""
        counts = dict.fromkeys(COUNTED_STATES, 0)
        for status in COUNTED_STATES:
            count = sa.select(sa.func.count()).select_from(outbox_message)
            counts[status] = self._db.execute(count.where(M.status == status)).scalar_one()
        return counts

    def oldest_waiting_since(self) -> datetime | None:
        """When the oldest message still waiting was queued (sequence follows queueing)."""
        oldest = (
            sa.select(M.created_at)
            .where(M.status.in_(PENDING_STATES))
            .order_by(M.sequence)
            .limit(1)
        )
        return self._db.execute(oldest).scalar()

    def earliest_due(self) -> datetime | None:
        """The earliest time a waiting message is due (maybe past: then it waits for a worker)."""
        times = [
            self._db.execute(
                sa.select(sa.func.min(M.next_attempt_at)).where(M.status == status)
            ).scalar()
            for status in PENDING_STATES
        ]
        found = [t for t in times if t is not None]
        return min(found) if found else None

    def beat(self, worker_id: str, now: datetime) -> None:
        """Record that this worker is going round its loop."""
        updated = self._db.execute(
            worker_heartbeat.update().where(H.worker_id == worker_id).values(beat_at=now)
        )
        if not updated.rowcount:
            self._db.execute(worker_heartbeat.insert().values(worker_id=worker_id, beat_at=now))
            # A new worker: forget the ones long gone (each run has a new id).
            self._db.execute(worker_heartbeat.delete().where(H.beat_at < now - _FORGET_AFTER))

    def last_beat(self) -> datetime | None:
        """When any delivery worker last went round its loop."""
        return self._db.execute(sa.select(sa.func.max(H.beat_at))).scalar()

    def beat_of(self, worker_id: str) -> datetime | None:
        """When this worker last went round its loop (None: not yet, or unknown)."""
        return self._db.execute(sa.select(H.beat_at).where(H.worker_id == worker_id)).scalar()

    def forget(self, worker_id: str) -> None:
        """Remove a worker's heartbeat (it stopped on purpose)."""
        self._db.execute(worker_heartbeat.delete().where(H.worker_id == worker_id))
