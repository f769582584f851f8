"""Whether this process's in-process delivery loop is still running (for /readyz).

A loop in another process (`ld-adapter worker`, or another gunicorn worker) is seen through the
heartbeat rows it writes (adapter.store.monitoring); this covers the one thread /readyz can see.
"""

from __future__ import annotations

import threading

_LOOP: list[threading.Thread] = []


def register_loop(thread: threading.Thread) -> None:
    """Note the thread running this process's delivery loop."""
    _LOOP[:] = [thread]


def loop_alive() -> bool | None:
    """True or False for this process's delivery loop; None when it runs none."""
    return _LOOP[0].is_alive() if _LOOP else None
