"""Readiness: the database answers and THIS instance's delivery loop (if it runs one) goes round.

Whether delivery workers elsewhere (`ld-adapter worker`) claim due messages is reported too
("workers", and the ld_adapter_delivery_stalled gauge) but does not make this instance unready:
a worker outage must not take every API instance out of a load balancer.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from adapter.observe.heartbeat import loop_alive, loop_worker_id
from adapter.settings import Settings
from adapter.store import Store

# The checks that decide readiness; "workers" is reported only.
READY_CHECKS = ("database", "delivery")


def readiness(store: Store, settings: Settings, now: datetime | None = None) -> dict[str, str]:
    """{"database": ..., "delivery": ..., "workers": ...}; see READY_CHECKS."""
    if not store.ping():
        return {"database": "unreachable", "delivery": "unknown", "workers": "unknown"}
    return {
        "database": "ok",
        "delivery": own_delivery_state(store, settings, now),
        "workers": delivery_state(store, settings, now),
    }


def own_delivery_state(store: Store, settings: Settings, now: datetime | None = None) -> str:
    """ "ok" (or no loop here); "stopped" (this process's loop ended); "not claiming" (it hangs)."""
    alive = loop_alive()
    if alive is None:
        return "ok"  # this process delivers nothing: nothing of its own to be unready about
    if alive is False:
        return "stopped"
    stale = (now or datetime.now(UTC)) - timedelta(seconds=settings.worker_stale_seconds)
    with store.unit_of_work(read_only=True) as uow:
        beat = uow.monitoring.beat_of(loop_worker_id() or "")
    return "not claiming" if beat is not None and beat <= stale else "ok"


def delivery_state(store: Store, settings: Settings, now: datetime | None = None) -> str:
    """ "ok", or "not claiming": due messages have waited and no worker anywhere has beaten."""
    now = now or datetime.now(UTC)
    stale = now - timedelta(seconds=settings.worker_stale_seconds)
    with store.unit_of_work(read_only=True) as uow:
        due = uow.monitoring.earliest_due()
        if due is None or due > stale:
            return "ok"  # nothing has waited long: no worker needs to be seen
        beat = uow.monitoring.last_beat()
    return "ok" if beat is not None and beat > stale else "not claiming"
