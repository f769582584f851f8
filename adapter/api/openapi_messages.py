"""The OpenAPI description of the operators' outbox endpoints (/api/messages)."""

from __future__ import annotations

from apispec import APISpec

from adapter.api.native_scopes import scope_list
from adapter.exchange.model import FINAL_STATES, PENDING_STATES

_TIME = {"type": "string", "format": "date-time", "nullable": True}
MESSAGE_RECORD = {
    "type": "object",
    "description": "One outbound FHIR message and how its delivery stands",
    "properties": {
        "id": {"type": "string", "description": "The message id (Bundle.id)"},
        "kind": {
            "type": "string",
            "description": "onward-referral | cancellation | response | refusal (our answer to a "
            "message we refused over MESH)",
        },
        "status": {"type": "string", "enum": [*PENDING_STATES, *FINAL_STATES]},
        "attempts": {"type": "integer", "description": "Attempts since queued or replayed"},
        "endpoint": {"type": "string", "description": "The partner's Endpoint (Endpoint/id)"},
        "transport": {"type": "string"},
        "onward_referral_id": {"type": "string", "nullable": True},
        "request_id": {"type": "string", "description": "X-Request-Id, the same on every try"},
        "correlation_id": {"type": "string", "description": "X-Correlation-Id"},
        "created_at": _TIME,
        "next_attempt_at": {**_TIME, "description": "null once the message is final"},
        "last_attempt_at": _TIME,
        "delivered_at": _TIME,
        "expires_at": {**_TIME, "description": "After this, no more retries: dead-letter"},
        "last_status_code": {"type": "integer", "nullable": True},
        "last_error": {"type": "string", "nullable": True},
        "partner_outcome": {
            "type": "object",
            "nullable": True,
            "description": "The partner's OperationOutcome, kept when it refused the message."
            " Only each issue's severity, code, details.coding and expression (its free text"
            " may name the person); all of it with include=body",
        },
        "body": {
            "type": "object",
            "description": "The FHIR message Bundle; only with ?include=body",
        },
    },
}


def message_paths(spec: APISpec, security: list[dict[str, list[str]]], errors: dict) -> None:
    """Add /api/messages, /api/messages/{message_id} and its replay to the document."""
    spec.components.schema("MessageRecord", MESSAGE_RECORD)
    record = {"application/json": {"schema": {"$ref": "#/components/schemas/MessageRecord"}}}
    states = ", ".join([*PENDING_STATES, *FINAL_STATES])
    message_id = {
        "in": "path",
        "name": "message_id",
        "required": True,
        "schema": {"type": "string"},
    }
    spec.path(
        path="/api/messages",
        operations={
            "get": {
                "summary": "Outbound messages, newest first",
                "description": _needs("list_messages"),
                "security": security,
                "parameters": [
                    _query("status", f"Delivery status: {states}"),
                    _query("limit", "Page size, 1-100 (default 20)"),
                    _query("offset", "Items to skip"),
                ],
                "responses": {"200": {"description": "{total, items, links}"}, **errors},
            }
        },
    )
    spec.path(
        path="/api/messages/{message_id}",
        parameters=[message_id],
        operations={
            "get": {
                "summary": "One message's delivery record",
                "description": _needs("read_message")
                + " With include=body, also read on every resource type in the Bundle.",
                "security": security,
                "parameters": [
                    _query("include", "body: add the message Bundle and the whole outcome")
                ],
                "responses": {
                    "200": {"description": "The record", "content": record},
                    "404": {"description": "No such message"},
                    **errors,
                },
            }
        },
    )
    spec.path(
        path="/api/messages/{message_id}/replay",
        parameters=[message_id],
        operations={
            "post": {
                "summary": "Queue a dead-lettered message again (same X-Request-Id)",
                "description": _needs("replay_message"),
                "security": security,
                "responses": {
                    "200": {"description": "Queued again", "content": record},
                    "404": {"description": "No such message"},
                    "409": {
                        "description": "The message is not dead-lettered, or may no longer be"
                        " sent (its onward referral cancelled, the consent withdrawn)"
                    },
                    **errors,
                },
            }
        },
    )


def _needs(operation: str) -> str:
    return f"Needs the scopes {scope_list(operation)}."


def _query(name: str, description: str) -> dict:
    return {"in": "query", "name": name, "schema": {"type": "string"}, "description": description}
