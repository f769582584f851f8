"""Liveness and readiness checks, open to load balancers without a token."""

from __future__ import annotations

from flask import Blueprint, Response

from adapter.api.context import current_store
from adapter.api.http import json_response, public

health_blueprint = Blueprint("health", __name__)


@health_blueprint.get("/healthz")
@public
def liveness() -> Response:
    """The process is up."""
    return json_response({"status": "ok"})


@health_blueprint.get("/readyz")
@public
def readiness() -> Response:
    """The database answers."""
    if current_store().ping():
        return json_response({"status": "ok", "database": "ok"})
    return json_response({"status": "unavailable", "database": "unreachable"}, status=503)
