"""The operators' view of the outbox under /api/messages: what was sent, what failed, replay.

A message's body is a FHIR message Bundle holding patient data: it is shown only when asked for
(?include=body) and only to a token that may read every resource type in it. So is the partner's
whole OperationOutcome (its diagnostics may name the person); otherwise only its coded parts.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request, url_for

from adapter.api.audit import note_records
from adapter.api.context import app_services
from adapter.api.http import json_response, page_parameters, unknown_parameters
from adapter.api.native_scopes import require_native
from adapter.auth import require_scopes
from adapter.errors import InvalidInput, Issue
from adapter.exchange.model import FINAL_STATES, PENDING_STATES
from adapter.exchange.outcomes import patient_of_message
from adapter.exchange.worker import wake
from adapter.services import messages

messages_blueprint = Blueprint("messages", __name__)

STATUSES = (*PENDING_STATES, *FINAL_STATES)
_LIST_PARAMETERS = ("status", "limit", "offset")


@messages_blueprint.get("/messages")
def list_messages() -> Response:
    """Outbound messages, newest first; ?status= one delivery status."""
    require_native("list_messages")
    status, limit, offset = _list_query()
    found, total = messages.list_messages(app_services().store, status, limit, offset)
    body: dict = {"total": total, "items": [messages.message_record(m) for m in found], "links": {}}
    query: dict[str, Any] = {"status": status} if status else {}
    if offset + limit < total:
        body["links"]["next"] = url_for(
            "messages.list_messages", **query, limit=limit, offset=offset + limit
        )
    if offset > 0:
        previous = max(offset - limit, 0)
        body["links"]["prev"] = url_for(
            "messages.list_messages", **query, limit=limit, offset=previous
        )
    return json_response(body)


@messages_blueprint.get("/messages/<message_id>")
def read_message(message_id: str) -> Response:
    """One message's delivery record; ?include=body adds the Bundle and the whole outcome."""
    require_native("read_message")
    include = request.args.get("include")
    if include not in (None, "body"):
        raise InvalidInput(Issue("include may only be body.", expression=("include",)))
    message = messages.get_message(app_services().store, message_id)
    if include == "body":
        require_scopes(*((t, "r") for t in _resource_types(message.body)))
        note_records([{"patient": patient_of_message(message)}])
    return json_response(messages.message_record(message, include_body=include == "body"))


@messages_blueprint.post("/messages/<message_id>/replay")
def replay_message(message_id: str) -> Response:
    """Queue a dead-lettered message again (same request id, new time to live); 409 otherwise."""
    require_native("replay_message")
    context = app_services()
    message = messages.replay_message(context.store, context.settings, message_id)
    wake()
    return json_response(messages.message_record(message))


def _resource_types(bundle: dict) -> list[str]:
    """Bundle and the type of every resource in it (what reading the body shows)."""
    found = {"Bundle": None}
    for entry in bundle.get("entry", []):
        resource = entry.get("resource", {})
        resource_type = resource.get("resourceType")
        if resource_type == "Bundle":  # an ITK3 message carries its document as a Bundle
            found.update(dict.fromkeys(_resource_types(resource)))
        elif isinstance(resource_type, str):
            found.setdefault(resource_type, None)
    return list(found)


def _list_query() -> tuple[str | None, int, int]:
    issues = unknown_parameters(_LIST_PARAMETERS)
    status = request.args.get("status")
    if status is not None and status not in STATUSES:
        issues.append(
            Issue(f"status must be one of {', '.join(STATUSES)}.", expression=("status",))
        )
    limit, offset = page_parameters(issues)
    if issues:
        raise InvalidInput(issues)
    return status, limit, offset
