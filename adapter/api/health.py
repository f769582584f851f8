"""Liveness and readiness checks, open to load balancers without a token."""

from __future__ import annotations

from flask import Blueprint, Response

from adapter.api.context import app_services
from adapter.api.http import json_response, public
from adapter.observe.readiness import READY_CHECKS, readiness

health_blueprint = Blueprint("health", __name__)


@health_blueprint.get("/healthz")
@public
def liveness() -> Response:
    """The process is up."""
    return json_response({"status": "ok"})


@health_blueprint.get("/readyz")
@public
def ready() -> Response:
    """The database answers and this instance's delivery loop (if any) goes round."""
    services = app_services()
    checks = readiness(services.store, services.settings)
    if all(checks[name] == "ok" for name in READY_CHECKS):
        return json_response({"status": "ok", **checks})
    return json_response({"status": "unavailable", **checks}, status=503)
