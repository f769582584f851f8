"""The request hook of the audit trail: which interaction a request is, who asked, and the outcome.

Building and storing the AuditEvents is adapter.services.audit's job; this only supplies the HTTP
context. Requests to endpoints not listed here (metadata, health, OpenAPI) are not audited.
"""

from __future__ import annotations

from collections.abc import Iterable

from flask import Flask, Response, g, request

from adapter.api.context import app_services
from adapter.exchange.partner_clients import token_client
from adapter.search.definitions import FHIR_ID
from adapter.services.audit import AuditScope, Entity, Requestor
from adapter.store.observer import set_observer

# Endpoint → FHIR restful-interaction code (BALP subtype).
INTERACTIONS = {
    "fhir.read": "read",
    "fhir.vread": "vread",
    "fhir.history": "history-instance",
    "fhir.search_get": "search-type",
    "fhir.search_post": "search-type",
    "fhir_validate.validate_any": "operation",
    "fhir_validate.validate_typed": "operation",
    "process_message.process_message": "operation",
    "native.create_referral": "create",
    "native.read_referral": "read",
    "native.update_referral": "update",
    "native.list_referrals": "search-type",
    "assessments.create_assessment": "create",
    "assessments.list_assessments": "search-type",
    "assessments.read_assessment": "read",
    "assessments.amend_assessment": "update",
    "assessments.assessment_history": "history-instance",
    "messages.list_messages": "search-type",
    "messages.read_message": "read",
    "messages.replay_message": "update",
    "onward.create_onward_referral": "create",
    "onward.list_onward_referrals": "search-type",
    "onward.read_onward_referral": "read",
    "onward.cancel_onward_referral": "update",
    "onward.search_onward_referrals": "search-type",
    "answers.record_decision": "create",
    "answers.record_outcome": "create",
    "answers.list_answers": "search-type",
    # A report is kept as a DocumentReference: producing one creates it.
    "reports.justice_report": "create",
    # The console (a signed-in person, not a token): signing in and out, what it shows, its actions.
    "console.use_link": "operation",
    "console_oidc.callback": "operation",
    "console.sign_out": "operation",
    "console.overview": "search-type",
    "console.messages": "search-type",
    "console.partners": "search-type",
    "console.overdue": "search-type",
    "console.confirm": "read",
    "console.message": "read",
    "console.reveal_message": "read",
    "console.replay_message": "update",
    "console.cancel_message": "update",
    "console.validate": "operation",
    "console.audit_log": "search-type",
}
# The FHIR resources that stand for a native record in its audit: the person and the main resource.
_RECORD_RESOURCES = ("patient", "service_request", "questionnaire_response")
# URL variable → the native record collection its value identifies.
_NATIVE_RECORDS = {
    "record_id": "referrals",
    "referral_id": "referrals",
    "assessment_id": "assessments",
    "message_id": "messages",
    "onward_id": "onward-referrals",
}


def init_app(app: Flask) -> None:
    """Audit every listed interaction; call before any other before_request hook is registered."""
    app.before_request(_open)
    app.after_request(_close)
    app.teardown_request(_forget)


def note_records(resource_ids: Iterable[dict]) -> None:
    """Record in the audit what a native view showed: the FHIR resources behind its records."""
    scope: AuditScope | None = g.get("audit_scope")
    if scope is None:
        return
    for ids in resource_ids:
        scope.note(ids.get(key) for key in _RECORD_RESOURCES)


def note_disclosure(reference: str, details: dict[str, str]) -> None:
    """Name in the audit what a disclosure relied on (a Consent) and how: format, recipient."""
    note_entity(Entity(reference, detail=tuple(details.items())))


def note_entity(entity: Entity) -> None:
    """Name an entity in this request's audit (e.g. a person known only by identifier)."""
    scope: AuditScope | None = g.get("audit_scope")
    if scope is not None:
        scope.note_entity(entity)


def note_purpose(coding: dict) -> None:
    """Say in the audit why the interaction happened, e.g. the lawful basis of a disclosure."""
    scope: AuditScope | None = g.get("audit_scope")
    if scope is not None:
        scope.purposes.append(coding)


def _open() -> None:
    interaction = INTERACTIONS.get(request.endpoint or "")
    settings = app_services().settings
    if interaction is None or request.method == "OPTIONS" or not settings.audit:
        return
    scope = AuditScope(interaction, _requestor, settings.fhir_base_url, _targets())
    g.audit_scope = scope
    set_observer(scope)


def _close(response: Response) -> Response:
    scope: AuditScope | None = g.pop("audit_scope", None)
    set_observer(None)
    if scope is not None:
        scope.finish(app_services().store, response.status_code)
    return response


def _forget(_error: BaseException | None) -> None:
    set_observer(None)


def _requestor() -> Requestor:
    user = g.get("console_user")
    if user is not None:  # a person signed in to the console: who, and as what
        return Requestor(
            client_id=f"console {user.role} {user.subject}", address=request.remote_addr
        )
    claims: dict = g.get("token_claims") or {}
    client = token_client(claims)
    token_id = claims.get("jti")
    return Requestor(
        client_id=client,
        address=request.remote_addr,
        issuer=claims.get("iss") if isinstance(claims.get("iss"), str) else None,
        token_id=token_id if isinstance(token_id, str) else None,
    )


def _targets() -> list[Entity]:
    """What the URL names: a FHIR resource, or a native record (by its URL as identifier)."""
    args = request.view_args or {}
    resource_type, resource_id = args.get("resource_type"), args.get("resource_id")
    served = app_services().store.registry.resource_types
    if resource_type in served and resource_id and FHIR_ID.fullmatch(resource_id):
        return [Entity(f"{resource_type}/{resource_id}")]
    base = app_services().settings.base_url
    return [
        Entity(identifier=(f"{base}/api/{collection}", args[name]))
        for name, collection in _NATIVE_RECORDS.items()
        if isinstance(args.get(name), str) and FHIR_ID.fullmatch(args[name])
    ]
