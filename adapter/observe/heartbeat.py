"""Whether this process's in-process delivery loop is still running (for /readyz).

A loop in another process (`ld-adapter worker`, or another gunicorn worker) is seen through the
heartbeat rows it writes (adapter.store.monitoring); this covers the one thread /readyz can see,
and the worker id under which that thread writes its own heartbeat.
"""

from __future__ import annotations

import threading

_LOOP: list[threading.Thread] = []
_WORKER_ID: list[str] = []


def register_loop(thread: threading.Thread, worker_id: str | None = None) -> None:
    """Note the thread running this process's delivery loop (and its heartbeat's worker id)."""
    _LOOP[:] = [thread]
    _WORKER_ID[:] = [worker_id] if worker_id else []


def loop_alive() -> bool | None:
    """True or False for this process's delivery loop; None when it runs none."""
    return _LOOP[0].is_alive() if _LOOP else None


def loop_worker_id() -> str | None:
    """The worker id this process's delivery loop beats under, if known."""
    return _WORKER_ID[0] if _WORKER_ID else None
