"""One receiver for messages from partners, whichever way they came: HTTP or MESH.

$process-message (adapter.api.process_message) and the MESH inbox (adapter.services.mesh_receive)
each find out who sent a message (a token's client; a MESH mailbox) and its ids (X-Request-Id and
X-Correlation-Id headers; Mex-LocalID and Mex-Subject), then call `receive`, which checks, in order:

  a message Bundle (MessageHeader first), within the validation work limits   400 / 413
  an event / reason / category a handler takes                                 400 `invariant`
  addressed to us (our endpoint, or our organisation as receiver)              422 `processing`
  MessageHeader.sender is the organisation of the partner it came from         403 `forbidden`
  the request id was not received before                                       409 `duplicate`
  valid (our validator; the MessageDefinition), with Bundle.id and source      400
and then runs the handler (adapter.services.inbound.dispatch) in one transaction with the
inbound row, whose unique request id settles a race between two copies.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from adapter.conformance import has_errors, validate
from adapter.conformance.limits import check_validation_work, most_severe
from adapter.errors import Conflict, Forbidden, InvalidInput, Issue, Unprocessable
from adapter.exchange.inbound_message import (
    addressed_to,
    header_of,
    message_codes,
    organisation_ods,
    source_endpoint,
)
from adapter.exchange.partners import Partner
from adapter.observe.metrics import count_validation
from adapter.services.inbound import Handled, Inbound, dispatch, unknown_workflow
from adapter.services.inbound_handlers import handler_for
from adapter.settings import Settings
from adapter.store import Store, UnitOfWork

HEADER = "Bundle.entry[0].resource"
# The partner a message came from, given the MessageHeader's source.endpoint (None if unknown).
FindPartner = Callable[[UnitOfWork, str | None], Partner | None]


def receive(
    store: Store,
    settings: Settings,
    directory: list[dict],
    body: object,
    ids: tuple[str, str],
    find_partner: FindPartner,
    received_at: datetime,
) -> Handled:
    """Check a received message and run its handler; `ids` = (request id, correlation id)."""
    bundle = message_bundle(body, settings)
    header = header_of(bundle)
    found = message_codes(bundle, header)
    if handler_for(found) is None:  # first: "not a workflow we take" says more than its errors
        raise unknown_workflow(found)
    check_addressed(bundle, header, settings)
    request_id, correlation_id = ids
    with store.unit_of_work(read_only=True) as uow:
        partner = find_partner(uow, source_endpoint(header))
        seen = uow.inbound.has_request_id(request_id)
    partner = check_sender(bundle, header, partner)
    if seen:  # the insert in dispatch decides races; this answers a plain replay cheaply
        raise duplicate()
    check_valid(bundle, settings)  # last: the costliest check
    inbound = Inbound(bundle, header, request_id, correlation_id, partner, received_at)
    with store.unit_of_work() as uow:
        return dispatch(uow, settings, directory, inbound)


def message_bundle(body: object, settings: Settings) -> dict:
    """The body, if it is a message Bundle whose first entry is a MessageHeader."""
    check_validation_work(body, settings)
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


def check_valid(body: dict, settings: Settings) -> None:
    """Our validator accepts it (profiles, and its MessageDefinition's counts); ids are there."""
    issues = validate(body)
    count_validation(not has_errors(issues))
    if has_errors(issues):
        errors = [i for i in issues if i.severity in ("fatal", "error")]
        raise InvalidInput(most_severe(errors, settings.max_validate_issues))
    if not isinstance(body.get("id"), str):
        raise InvalidInput(_required("Bundle.id", "replies name the message by it"))
    if source_endpoint(header_of(body)) is None:
        raise InvalidInput(_required(f"{HEADER}.source.endpoint", "replies are sent there"))


def _required(path: str, why: str) -> Issue:
    return Issue(
        f"{path.rsplit('.', 1)[-1]} is required: {why}.", code="required", expression=(path,)
    )


def check_addressed(bundle: dict, header: dict, settings: Settings) -> None:
    """Some destination must be us: our endpoint, or our organisation as receiver."""
    if addressed_to(
        bundle, header, settings.source_endpoint, settings.ods_code, settings.mesh_mailbox
    ):
        return
    mailbox = f", its MESH mailbox ({settings.mesh_mailbox})" if settings.mesh_mailbox else ""
    raise Unprocessable(
        Issue(
            "The message is addressed to another service: no destination has this service's "
            f"endpoint ({settings.source_endpoint}){mailbox} or its organisation (ODS "
            f"{settings.ods_code}) as receiver.",
            code="processing",
            expression=(f"{HEADER}.destination",),
        )
    )


def check_sender(bundle: dict, header: dict, partner: Partner | None) -> Partner:
    """MessageHeader.sender must be the organisation of the partner the message came from."""
    sent_by = organisation_ods(bundle, header.get("sender"))
    if partner is None or partner.ods_code is None or sent_by != partner.ods_code:
        raise Forbidden(
            Issue(
                "MessageHeader.sender is not the organisation of the partner the message came "
                "from (the token's client, or the MESH mailbox).",
                code="forbidden",
                expression=(f"{HEADER}.sender",),
            )
        )
    return partner


def duplicate() -> Conflict:
    """The answer to a request id received before."""
    return Conflict(
        Issue("A message with this X-Request-Id has already been received.", code="duplicate")
    )
