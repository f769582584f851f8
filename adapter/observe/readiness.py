"""Readiness: the database answers and messages that are due are being claimed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from adapter.observe.heartbeat import loop_alive
from adapter.settings import Settings
from adapter.store import Store


def readiness(store: Store, settings: Settings, now: datetime | None = None) -> dict[str, str]:
    """{"database": ..., "delivery": ...}; anything but "ok" means not ready."""
    if not store.ping():
        return {"database": "unreachable", "delivery": "unknown"}
    return {"database": "ok", "delivery": delivery_state(store, settings, now)}


def delivery_state(store: Store, settings: Settings, now: datetime | None = None) -> str:
    """ "ok"; "stopped" (this process's loop ended); "not claiming" (due messages wait, no beat)."""
    if settings.delivery_in_process and loop_alive() is False:
        return "stopped"
    now = now or datetime.now(UTC)
    stale = now - timedelta(seconds=settings.worker_stale_seconds)
    with store.unit_of_work(read_only=True) as uow:
        due = uow.monitoring.earliest_due()
        if due is None or due > stale:
            return "ok"  # nothing has waited long: no worker needs to be seen
        beat = uow.monitoring.last_beat()
    return "ok" if beat is not None and beat > stale else "not claiming"
