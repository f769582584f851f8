"""`POST /fhir/$process-message`: FHIR messages from partners, received as BaRS receivers must.

In order, each refusal an OperationOutcome with a REC_ code:
  X-Request-Id / X-Correlation-Id missing or not GUIDs   400 REC_BAD_REQUEST (both echoed always)
  token not bound to a partner, or without Bundle.c      403 REC_FORBIDDEN
  not a message Bundle (MessageHeader first)             400 REC_BAD_REQUEST
  event / reason / category no handler takes             400 REC_BAD_REQUEST `invariant`
  addressed to another service                           422 REC_UNPROCESSABLE_ENTITY
  MessageHeader.sender not the token's partner           403 REC_FORBIDDEN
  X-Request-Id received before                           409 REC_CONFLICT `duplicate`
  not valid (our validator; the MessageDefinition)       400 REC_BAD_REQUEST, the validator's issues
then the handler (adapter.services.inbound.dispatch), in one transaction with the inbound row.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime

from flask import Blueprint, Response, g, request

from adapter.api.context import AppServices, app_services
from adapter.api.fhir_format import fhir_response, negotiate
from adapter.api.http import FHIR_JSON_TYPES, read_json_body
from adapter.api.limits import check_validation_work, most_severe
from adapter.api.observe import note_validation
from adapter.auth import require_scope
from adapter.conformance import has_errors, validate
from adapter.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    Issue,
    Unprocessable,
    operation_outcome,
)
from adapter.exchange.inbound_message import (
    addressed_to,
    header_of,
    message_codes,
    organisation_ods,
    source_endpoint,
)
from adapter.exchange.partner_clients import partner_for_client, token_client
from adapter.exchange.partners import Partner
from adapter.services.inbound import Inbound, dispatch, unknown_workflow
from adapter.services.inbound_handlers import handler_for
from adapter.settings import Settings
from adapter.store import UnitOfWork

process_blueprint = Blueprint("process_message", __name__)
process_blueprint.before_request(negotiate)

REQUEST_ID, CORRELATION_ID = "X-Request-Id", "X-Correlation-Id"
_ECHOED = re.compile(r"[\x21-\x7e]{1,100}")  # printable ASCII only: never a header injection
_HEADER = "Bundle.entry[0].resource"
_CACHED_PARTNERS = 1000


@process_blueprint.after_request
def _echo_ids(response: Response) -> Response:
    """Echo X-Request-Id and X-Correlation-Id on every answer, refusals included (BaRS)."""
    for name in (REQUEST_ID, CORRELATION_ID):
        value = request.headers.get(name, "").strip()
        if _ECHOED.fullmatch(value):
            response.headers[name] = value
    return response


@process_blueprint.after_request
def _count_refusal(response: Response) -> Response:
    """Count a refused message (4xx) for the console's overview: when, the status, the client."""
    if 400 <= response.status_code < 500:
        client = token_client(g.get("token_claims") or {})
        with app_services().store.unit_of_work() as uow:
            uow.console.add_rejection(datetime.now(UTC), response.status_code, client)
    return response


@process_blueprint.post("/$process-message")
def process_message() -> Response:
    """Receive one message from a partner."""
    request_id, correlation_id = _guid(REQUEST_ID), _guid(CORRELATION_ID)
    client = token_client(g.get("token_claims") or {})
    services = app_services()
    if client is None or client not in services.partner_clients:
        raise Forbidden(
            "The token's client is not bound to a partner, so it may not send messages."
        )
    require_scope("Bundle", "c")
    bundle = _message_bundle()
    header = header_of(bundle)
    found = message_codes(bundle, header)
    if handler_for(found) is None:  # first: "not a workflow we take" says more than its errors
        raise unknown_workflow(found)
    settings = services.settings
    _check_addressed(bundle, header, settings)
    with services.store.unit_of_work(read_only=True) as uow:
        partner = _partner(uow, services, client, source_endpoint(header))
        seen = uow.inbound.has_request_id(request_id)
    partner = _check_sender(bundle, header, partner)
    if seen:  # the insert in dispatch decides races; this answers a plain replay cheaply
        raise _duplicate()
    _check_valid(bundle)  # last: the costliest check
    inbound = Inbound(bundle, header, request_id, correlation_id, partner, datetime.now(UTC))
    with services.store.unit_of_work() as uow:
        handled = dispatch(uow, settings, services.directory, inbound)
    accepted = Issue("The message was accepted.", code="informational", severity="information")
    return fhir_response(operation_outcome([accepted]), handled.status)


def _partner(
    uow: UnitOfWork, services: AppServices, client: str, endpoint: str | None
) -> Partner | None:
    """The partner a client is bound to, looked up once per process (partners load at start)."""
    key = (client, endpoint)
    cache = services.partners_of_clients
    if key not in cache:
        if len(cache) >= _CACHED_PARTNERS:  # source.endpoint is the sender's to choose
            cache.clear()
        cache[key] = partner_for_client(uow, client, endpoint)
    found: Partner | None = services.partners_of_clients[key]
    return found


def _guid(name: str) -> str:
    """A required GUID header, in lower case (so case cannot dodge the duplicate check)."""
    value = request.headers.get(name, "").strip()
    if not value:
        raise InvalidInput(Issue(f"The {name} header is required.", code="required"))
    try:
        parsed = uuid.UUID(value)
    except ValueError:
        parsed = None
    if parsed is None or len(value) != 36:
        raise InvalidInput(
            Issue(f"The {name} header must be a GUID (8-4-4-4-12 hexadecimal digits).")
        )
    return str(parsed)


def _message_bundle() -> dict:
    """The body, if it is a message Bundle whose first entry is a MessageHeader."""
    body = read_json_body(FHIR_JSON_TYPES)
    check_validation_work(body, app_services().settings)
    if not (
        isinstance(body, dict)
        and body.get("resourceType") == "Bundle"
        and body.get("type") == "message"
        and header_of(body)
    ):
        raise InvalidInput(
            Issue(
                "The body must be a Bundle of type message whose first entry is a MessageHeader.",
                expression=("Bundle",),
            )
        )
    return body


def _check_valid(body: dict) -> None:
    """Our validator accepts it (profiles, and its MessageDefinition's counts); ids are there."""
    issues = validate(body)
    note_validation(not has_errors(issues))
    if has_errors(issues):
        errors = [i for i in issues if i.severity in ("fatal", "error")]
        raise InvalidInput(most_severe(errors, app_services().settings.max_validate_issues))
    if not isinstance(body.get("id"), str):
        raise InvalidInput(_required("Bundle.id", "replies name the message by it"))
    if source_endpoint(header_of(body)) is None:
        raise InvalidInput(_required(f"{_HEADER}.source.endpoint", "replies are sent there"))


def _required(path: str, why: str) -> Issue:
    return Issue(
        f"{path.rsplit('.', 1)[-1]} is required: {why}.", code="required", expression=(path,)
    )


def _check_addressed(bundle: dict, header: dict, settings: Settings) -> None:
    """Some destination must be us: our endpoint, or our organisation as receiver."""
    if addressed_to(bundle, header, settings.source_endpoint, settings.ods_code):
        return
    raise Unprocessable(
        Issue(
            "The message is addressed to another service: no destination has this service's "
            f"endpoint ({settings.source_endpoint}) or its organisation (ODS "
            f"{settings.ods_code}) as receiver.",
            code="processing",
            expression=(f"{_HEADER}.destination",),
        )
    )


def _check_sender(bundle: dict, header: dict, partner: Partner | None) -> Partner:
    """MessageHeader.sender must be the organisation of the partner the token is bound to."""
    sent_by = organisation_ods(bundle, header.get("sender"))
    if partner is None or partner.ods_code is None or sent_by != partner.ods_code:
        raise Forbidden(
            Issue(
                "MessageHeader.sender is not the organisation this token's client is bound to.",
                code="forbidden",
                expression=(f"{_HEADER}.sender",),
            )
        )
    return partner


def _duplicate() -> Conflict:
    return Conflict(
        Issue("A message with this X-Request-Id has already been received.", code="duplicate")
    )
