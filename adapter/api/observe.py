"""Per-request metrics and log line, and /metrics.

Every request is counted and timed by its route TEMPLATE (/api/referrals/<record_id>, never the
path a client sent: ids are not labels) and logged as one line holding only ids, the template,
the status and the time taken: never a query string, a body or a name.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Flask, Response, g, request

from adapter import PROCESS_MESSAGE
from adapter.api.context import app_services
from adapter.api.http import public
from adapter.auth import authenticate, refuse_partner_client
from adapter.exchange.partner_clients import token_client
from adapter.observe import metrics
from adapter.observe.readiness import delivery_state
from adapter.store import Store

access_log = logging.getLogger("adapter.access")
observe_blueprint = Blueprint("observe", __name__)
_UNMATCHED = "(unmatched)"  # no route: counted together, whatever the path
# Methods are labels from a closed set: a client's made-up method must mint no new series.
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_OTHER_METHOD = "other"


def init_app(app: Flask) -> None:
    """Time, count and log every request."""
    app.before_request(_start)
    app.after_request(_finish)


def note_validation(valid: bool) -> None:
    """Count one validation by its outcome."""
    metrics.count_validation(valid)


def note_error_code(code: str) -> None:
    """Keep the issue code of the error this request is answered with (a label, never text)."""
    g.issue_code = code


def _start() -> None:
    g.started = time.perf_counter()


def _finish(response: Response) -> Response:
    seconds = time.perf_counter() - g.pop("started", time.perf_counter())
    route = request.url_rule.rule if request.url_rule is not None else _UNMATCHED
    status = str(response.status_code)
    method = method_label(request.method)
    metrics.HTTP_REQUESTS.labels(method, route, status).inc()
    metrics.HTTP_DURATION.labels(method, route, status).observe(seconds)
    if request.endpoint == PROCESS_MESSAGE and request.method == "POST":
        accepted = response.status_code < 300
        reason = "none" if accepted else g.get("issue_code", status)
        metrics.count_inbound(accepted, reason)
    access_log.info(
        "%s %s %s %.1f ms",
        method,
        route,
        status,
        seconds * 1000,
        extra=_request_fields(route, response.status_code, seconds),
    )
    return response


def method_label(method: str) -> str:
    """The request's method if it is a standard one, else "other" (never the text sent)."""
    return method if method in _METHODS else _OTHER_METHOD


def _request_fields(route: str, status: int, seconds: float) -> dict[str, Any]:
    claims: dict = g.get("token_claims") or {}
    # As the audit names it: system tokens only, so the subject is a client, never a person.
    client = token_client(claims)
    return {
        "event": "request",
        "method": method_label(request.method),
        "route": route,
        "status": status,
        "duration_ms": round(seconds * 1000, 1),
        "request_id": _guid("X-Request-Id") or _request_id(),
        "correlation_id": _guid("X-Correlation-Id"),
        "client_id": client if client is not None and len(client) <= 128 else None,
    }


def _request_id() -> str:
    """This request's id when the client sent none: made once, so every line agrees."""
    if "request_id" not in g:
        g.request_id = str(uuid.uuid4())
    return str(g.request_id)


def _guid(header: str) -> str | None:
    """A header's value if it is a GUID; anything else could carry what must not be logged."""
    try:
        return str(uuid.UUID(request.headers.get(header, "")))
    except ValueError:
        return None


@observe_blueprint.get("/metrics")
@public
def metrics_view() -> Response:
    """Prometheus metrics: every worker process's counters, the outbox read now."""
    services = app_services()
    if not services.settings.metrics_open:
        authenticate(services.verifier)
        refuse_partner_client(services.partner_clients)
    stalled = metrics.StalledCollector(
        lambda: delivery_state(services.store, services.settings) != "ok"
    )
    body = metrics.exposition([metrics.QueueCollector(_queue_reader(services.store)), stalled])
    return Response(body, content_type=metrics.CONTENT_TYPE)


def _queue_reader(store: Store) -> Callable[[], tuple[dict[str, int], float | None]]:
    def read() -> tuple[dict[str, int], float | None]:
        with store.unit_of_work(read_only=True) as uow:
            counts = uow.monitoring.queue_depth()
            oldest = uow.monitoring.oldest_waiting_since()
        age = (datetime.now(UTC) - oldest).total_seconds() if oldest else None
        return counts, age

    return read
