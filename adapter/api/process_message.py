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
Everything after the token's checks is adapter.services.inbound_receive.receive, which messages
from our MESH inbox go through too.
"""

from __future__ import annotations

import logging
import re
import uuid
from datetime import UTC, datetime

from flask import Blueprint, Response, g, request

from adapter.api.context import AppServices, app_services
from adapter.api.fhir_format import fhir_response, negotiate
from adapter.api.http import FHIR_JSON_TYPES, read_json_body
from adapter.auth import require_scope
from adapter.errors import (
    Forbidden,
    InvalidInput,
    Issue,
    operation_outcome,
)
from adapter.exchange.partner_clients import partner_for_client, token_client
from adapter.exchange.partners import Partner
from adapter.services.inbound_receive import receive
from adapter.store import UnitOfWork

process_blueprint = Blueprint("process_message", __name__)
process_blueprint.before_request(negotiate)

REQUEST_ID, CORRELATION_ID = "X-Request-Id", "X-Correlation-Id"
_ECHOED = re.compile(r"[\x21-\x7e]{1,100}")  # printable ASCII only: never a header injection
_CACHED_PARTNERS = 1000

logger = logging.getLogger(__name__)


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
    """Count a refused message (4xx) for the console's overview: when, the status, the client.

    Only callers with a valid token: a request without one is not a partner's message, and
    counting it would let anyone on the network grow the table. A failed count must not turn the
    caller's 4xx into a 500: it is logged and the refusal goes out as it was.
    """
    claims = g.get("token_claims")
    if not claims or not 400 <= response.status_code < 500:
        return response
    try:
        with app_services().store.unit_of_work() as uow:
            uow.console.add_rejection(datetime.now(UTC), response.status_code, token_client(claims))
    except Exception as error:  # the database may be the reason for the refusal's trouble
        logger.warning("refused message not counted: %s", type(error).__name__)
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
    body = read_json_body(FHIR_JSON_TYPES)

    def find_partner(uow: UnitOfWork, endpoint: str | None) -> Partner | None:
        return _partner(uow, services, client, endpoint)

    handled = receive(
        services.store,
        services.settings,
        services.directory,
        body,
        (request_id, correlation_id),
        find_partner,
        datetime.now(UTC),
    )
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
