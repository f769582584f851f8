"""Run the app under gunicorn: one app per worker, built after the fork (no shared DB handles).

Workers are threaded and receive each whole request before a thread takes it on (adapter.worker),
so clients that send slowly cannot hold the threads that answer everyone else.
"""

from __future__ import annotations

import gc
import threading
from typing import Any

from gunicorn.app.base import BaseApplication

from adapter.settings import Settings


class _AdapterServer(BaseApplication):
    def __init__(self, settings: Settings, options: dict[str, object]) -> None:
        self.settings = settings
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> object:
        from adapter import create_app

        app = create_app(self.settings)
        _settle_heap()
        return app


def _settle_heap() -> None:
    """Load the validator's data now, then keep all that lives for good out of the GC's walks.

    A full (generation 2) collection walks every tracked object: some 270,000 once the app,
    SQLAlchemy and the validator are loaded, 120 ms on a small machine, during which the worker
    holds the GIL and answers nobody (it was the p99 of $process-message). What exists at start
    lives as long as the worker, so gc.freeze() moves it to the permanent generation: a full
    collection then walks only what requests have made since (well under a millisecond).
    """
    from adapter.conformance.definitions import definitions
    from adapter.conformance.full import questionnaires
    from adapter.conformance.package import package
    from adapter.conformance.profiles import profiles

    for load in (definitions, profiles, questionnaires, package):
        load()
    gc.collect()
    gc.freeze()


def run(settings: Settings, host: str, port: int, workers: int) -> None:
    """Migrate once, then serve until stopped."""
    from adapter.observe.logs import gunicorn_config
    from adapter.observe.metrics import prepare_multiprocess_dir
    from adapter.services import prepare_store
    from adapter.store import Store

    settings.home.mkdir(parents=True, exist_ok=True)
    # Before any worker forks, so every process counts into files /metrics adds up.
    prepare_multiprocess_dir(settings.home / "metrics")
    store = Store.from_url(
        settings.database_url, statement_timeout_ms=settings.statement_timeout_ms
    )
    prepare_store(store, settings)
    store.dispose()
    options: dict[str, object] = {
        "bind": f"{host}:{port}",
        "workers": workers,
        "worker_class": _worker_class(settings),
        "threads": settings.threads,
        "keepalive": settings.keepalive,
        "worker_connections": settings.max_connections,
        # The app logs each request (route template, never the query string); gunicorn's own
        # access log is off.
        "logconfig_dict": gunicorn_config(settings.log_format),
        "child_exit": _child_exit,
        # gthread workers stay alive through long requests: this restarts only a hung worker.
        "timeout": settings.worker_timeout,
        # gunicorn's admin socket has one path per user, so every instance would take it over from
        # the last; nothing here uses it.
        "control_socket_disable": True,
    }
    if settings.delivery_in_process:
        # One delivery loop per worker process, started after the fork (no shared DB handles).
        options["post_worker_init"] = _start_delivery
        options["worker_exit"] = _stop_delivery
    _AdapterServer(settings, options).run()


def _start_delivery(worker: Any) -> None:
    """gunicorn post_worker_init: run a delivery loop in a thread of this worker process."""
    from adapter.exchange.worker import DeliveryWorker
    from adapter.observe.heartbeat import register_loop

    services = worker.wsgi.extensions["ld_adapter"]
    stop = threading.Event()
    delivery = DeliveryWorker(services.store, services.settings)
    thread = threading.Thread(target=delivery.run, args=(stop,), name="delivery", daemon=True)
    worker.ld_delivery = (stop, thread)
    register_loop(thread, delivery.worker_id)
    thread.start()


def _child_exit(_server: Any, worker: Any) -> None:
    """gunicorn child_exit: a worker's live gauges leave /metrics with it."""
    from adapter.observe.metrics import process_ended

    process_ended(worker.pid)


def _stop_delivery(_server: Any, worker: Any) -> None:
    """gunicorn worker_exit: let the delivery loop finish the message in hand, then stop."""
    from adapter.exchange.worker import wake

    running: tuple[threading.Event, threading.Thread] | None = getattr(worker, "ld_delivery", None)
    if running is None:
        return
    stop, thread = running
    stop.set()
    wake()  # an idle loop is waiting for its next poll
    # A lease covers a message not finished in time: another worker takes it when it ends.
    thread.join(timeout=worker.cfg.graceful_timeout)


def _worker_class(settings: Settings) -> type:
    """The bounded worker, with this configuration's request timeout and body limit."""
    from adapter.worker import BoundedThreadWorker

    limits = {
        "request_timeout": float(settings.request_timeout),
        "max_body_bytes": settings.max_body_bytes,
    }
    return type("AdapterWorker", (BoundedThreadWorker,), limits)
