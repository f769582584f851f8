"""The onward-referral part of the native API's OpenAPI document."""

from __future__ import annotations

from apispec import APISpec

from adapter.api.native_scopes import scope_list
from adapter.native.onward_referral_schema import OnwardReferralSchema

_ERRORS = {
    "400": {"description": "An OperationOutcome naming each problem (expression = field path)"},
    "401": {"description": "No or bad bearer token (OperationOutcome)"},
    "403": {"description": "The token lacks the scope (OperationOutcome)"},
    "404": {"description": "No such referral or onward referral"},
}
_DELIVERY = {
    "type": "object",
    "nullable": True,
    "description": "Where the referral message is: queued, retrying, delivered, dead-letter, "
    "cancelled; attempts, the last error (never patient data), the partner's OperationOutcome",
    "properties": {
        "status": {"type": "string"},
        "attempts": {"type": "integer"},
        "last_error": {"type": "string", "nullable": True},
        "last_status_code": {"type": "integer", "nullable": True},
        "partner_outcome": {"type": "object", "nullable": True},
        "next_attempt_at": {"type": "string", "format": "date-time", "nullable": True},
        "delivered_at": {"type": "string", "format": "date-time", "nullable": True},
        "message_id": {"type": "string", "description": "GET /api/messages/{id}"},
    },
}
_RECORD = {
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "version": {"type": "integer"},
        "referral_id": {"type": "string"},
        "created_at": {"type": "string", "format": "date-time"},
        "updated_at": {"type": "string", "format": "date-time"},
        "status": {"type": "string", "description": "active | cancelled | rejected | completed"},
        "pathway": {"type": "string"},
        "to": {"type": "string", "description": "The partner's HealthcareService id"},
        "delivery": _DELIVERY,
        "outcome": {
            "type": "object",
            "nullable": True,
            "description": "The partner's latest response: {status (ld-referral-outcome), "
            "reason (dos-rejected-reasons-bars, when rejected), at, message_id}; from a GP "
            "practice (GP Connect Send Document) an ITK3 acknowledgement instead: {status "
            "(ld-delivery-status delivered | filed | failed), acknowledgement "
            "(infrastructure | business), itk_code, reason, at, message_id}",
        },
        "outcomes": {
            "type": "array",
            "description": "Every response the partner sent, oldest first",
            "items": {"type": "object"},
        },
        "overdue_since": {
            "type": "string",
            "format": "date-time",
            "description": "Only when listed with overdue=true: when its pathway's wait ran out",
        },
        "messages": {
            "type": "array",
            "description": "Every message sent for it: {id, kind, status}",
            "items": {"type": "object"},
        },
        "fhir": {"type": "object", "description": "ServiceRequest, Task, Patient, Consents"},
        "request": {"$ref": "#/components/schemas/OnwardReferral"},
    },
}
_CONSENT_REFUSED = (
    "The person's consent for this kind of partner is missing or declined (the issue names it), "
    "the partner does not take the pathway, or a lawful basis was given where none may apply"
)


def onward_paths(spec: APISpec, security: list[dict[str, list[str]]]) -> None:
    """Add the onward-referral operations to `spec`."""
    spec.components.schema("OnwardReferral", schema=OnwardReferralSchema)
    spec.components.schema("OnwardReferralRecord", _RECORD)
    ref = {"schema": {"$ref": "#/components/schemas/OnwardReferralRecord"}}
    record = {"application/json": ref}
    body = {
        "required": True,
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/OnwardReferral"}}
        },
    }
    spec.path(
        path="/api/referrals/{referral_id}/onward-referrals",
        parameters=[_path("referral_id", "The referral record's id")],
        operations={
            "post": {
                "summary": "Refer the person on to a partner (consent checked, message queued)",
                "description": _needs("create_onward_referral"),
                "security": security,
                "requestBody": body,
                "responses": {
                    "201": {"description": "Queued for delivery", "content": record},
                    "422": {"description": _CONSENT_REFUSED},
                    **_ERRORS,
                },
            },
            "get": {
                "summary": "The referral's onward referrals, oldest first",
                "description": _needs("list_onward_referrals"),
                "security": security,
                "responses": {"200": {"description": "{total, items}"}, **_ERRORS},
            },
        },
    )
    spec.path(
        path="/api/onward-referrals",
        operations={
            "get": {
                "summary": "Every onward referral, newest first; overdue=true: those to chase",
                "description": _needs("search_onward_referrals")
                + " overdue=true lists active onward referrals with no response from the partner "
                "after their pathway's wait (overdue_after_days in "
                "mappings/onward-referral-rules.json), longest overdue first.",
                "security": security,
                "parameters": [
                    _query("overdue", "true: only those overdue an answer", "boolean"),
                    _query("limit", "Page size, 1 to 100 (20)", "integer"),
                    _query("offset", "Records to skip", "integer"),
                ],
                "responses": {"200": {"description": "{total, items}"}, **_ERRORS},
            }
        },
    )
    spec.path(
        path="/api/onward-referrals/{onward_id}",
        parameters=[_path("onward_id", "The onward referral's id")],
        operations={
            "get": {
                "summary": "Read an onward referral and its delivery",
                "description": _needs("read_onward_referral"),
                "security": security,
                "responses": {"200": {"description": "The record", "content": record}, **_ERRORS},
            }
        },
    )
    spec.path(
        path="/api/onward-referrals/{onward_id}/cancel",
        parameters=[_path("onward_id", "The onward referral's id")],
        operations={
            "post": {
                "summary": "Cancel while active (BaRS style)",
                "description": _needs("cancel_onward_referral")
                + " A message not yet delivered is withdrawn; a delivered one is followed by a "
                "cancellation message.",
                "security": security,
                "responses": {
                    "200": {"description": "Cancelled", "content": record},
                    "409": {"description": "Not active (already cancelled)"},
                    **_ERRORS,
                },
            }
        },
    )


def _needs(operation: str) -> str:
    return f"Needs the scopes {scope_list(operation)} (every FHIR type it writes or shows)."


def _query(name: str, description: str, kind: str) -> dict:
    return {"in": "query", "name": name, "schema": {"type": kind}, "description": description}


def _path(name: str, description: str) -> dict:
    schema = {"type": "string"}
    return {
        "in": "path",
        "name": name,
        "required": True,
        "schema": schema,
        "description": description,
    }
