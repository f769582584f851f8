"""The answering part of the native API's OpenAPI document: decisions and outcomes."""

from __future__ import annotations

from apispec import APISpec

from adapter.api.native_scopes import scope_list
from adapter.native.answer_schema import DecisionSchema, OutcomeSchema

_ERRORS = {
    "400": {"description": "An OperationOutcome naming each problem (expression = field path)"},
    "401": {"description": "No or bad bearer token (OperationOutcome)"},
    "403": {"description": "The token lacks the scope (OperationOutcome)"},
    "404": {"description": "No such referral"},
    "409": {
        "description": "Out of order: a second decision, an outcome before acceptance, "
        "anything after completed"
    },
    "422": {
        "description": "The referral was not received as a message from a partner, or that "
        "partner is no longer in the partners bundle"
    },
}
_ANSWER = {
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "referral_id": {"type": "string"},
        "kind": {"type": "string", "description": "decision | outcome"},
        "decision": {"type": "string", "description": "With kind decision"},
        "outcome": {"type": "string", "description": "With kind outcome"},
        "reason": {"type": "string", "nullable": True},
        "recorded_at": {"type": "string", "format": "date-time"},
        "recorded_by": {"type": "string"},
        "message": {
            "type": "object",
            "description": "The servicerequest-response carrying it: {id, status} "
            "(GET /api/messages/{id})",
        },
    },
}
_SENT = (
    " Queues a servicerequest-response (MessageDefinition ld-referral-response) to the service "
    "that sent the referral, at its source.endpoint, with the same X-Correlation-Id and "
    "response.identifier = the id of its referral message."
)


def answer_paths(spec: APISpec, security: list[dict[str, list[str]]]) -> None:
    """Add the decision and outcome operations to `spec`."""
    spec.components.schema("Decision", schema=DecisionSchema)
    spec.components.schema("Outcome", schema=OutcomeSchema)
    spec.components.schema("Answer", _ANSWER)
    answer = {"application/json": {"schema": {"$ref": "#/components/schemas/Answer"}}}
    parameters = [
        {
            "in": "path",
            "name": "referral_id",
            "required": True,
            "schema": {"type": "string"},
            "description": "The referral record's id",
        }
    ]
    for kind, schema, summary, scopes in (
        ("decision", "Decision", "Accept, or reject with a BaRS reason", "record_decision"),
        ("outcome", "Outcome", "Record booked, seen, did-not-attend, completed", "record_outcome"),
    ):
        body = {"$ref": f"#/components/schemas/{schema}"}
        spec.path(
            path=f"/api/referrals/{{referral_id}}/{kind}",
            parameters=parameters,
            operations={
                "post": {
                    "summary": summary,
                    "description": f"Needs the scopes {scope_list(scopes)}." + _SENT,
                    "security": security,
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": body}},
                    },
                    "responses": {"201": {"description": "Recorded", "content": answer}, **_ERRORS},
                }
            },
        )
    spec.path(
        path="/api/referrals/{referral_id}/answers",
        parameters=parameters,
        operations={
            "get": {
                "summary": "The decision and outcomes recorded, oldest first",
                "description": f"Needs the scopes {scope_list('list_answers')}.",
                "security": security,
                "responses": {"200": {"description": "{total, items}"}, **_ERRORS},
            }
        },
    )
