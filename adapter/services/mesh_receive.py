"""FHIR messages from our MESH inbox: the same receiver as $process-message, by mailbox.

The MESH envelope stands in for what HTTP carries in headers and the token:

    Mex-From     the partner: the one whose active MESH Endpoint has this mailbox as address
    Mex-LocalID  the X-Request-Id (a GUID): the duplicate key, so a message sent twice (a sender's
                 retry, or one read again after an acknowledgement was lost) is taken once
    Mex-Subject  the X-Correlation-Id, if it is a GUID; else one derived from the request id

Then adapter.services.inbound_receive.receive checks and handles it exactly as it does a message
received over HTTP. Its AdapterErrors (a bad message, a duplicate) reach the inbox poller, which
records, audits and acknowledges the message.
"""

from __future__ import annotations

import functools
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

from adapter.directory import directory_resources
from adapter.errors import AdapterError, InvalidInput, Issue, PayloadTooLarge
from adapter.exchange.partners import Partner, is_mesh_endpoint, partner_for_service
from adapter.exchange.refusal import is_error_response
from adapter.json_input import JsonInputError, load_json
from adapter.observe.metrics import count_inbound
from adapter.search.query import SearchQuery
from adapter.services.inbound_receive import receive
from adapter.services.mesh_refusals import answer_refusal, take_refusal_answer
from adapter.settings import Settings
from adapter.store import Store, UnitOfWork

if TYPE_CHECKING:
    from adapter.exchange.mesh_inbox import MeshInbound

_MANY = 1000  # far more partner services than anyone has
_CACHED_PARTNERS = 1000
_FOUND: dict[tuple[str, str, str], Partner] = {}  # (database, partners bundle, mailbox) → partner
_CORRELATION = uuid.UUID("6f6d6573-682d-4c64-a164-61707465720a")  # namespace for derived ids


def receive_fhir_message(store: Store, settings: Settings, inbound: MeshInbound) -> None:
    """Receive one FHIR message from MESH; AdapterError names what is wrong with it.

    Counted as $process-message counts: accepted, or refused (4xx) with the first issue's code
    in the metrics and a row for the console; a 5xx is not a refusal (the message is read again).
    A refusal is also sent back to the partner (adapter.services.mesh_refusals): MESH has no
    reply in which to say it, as $process-message's response does.
    """
    parsed: object = None
    try:
        request_id = _guid(inbound.local_id, "Mex-LocalID")
        parsed = _body(inbound.body, settings)
        if is_error_response(parsed):  # a partner refusing one of ours: never answered back
            assert isinstance(parsed, dict)
            take_refusal_answer(store, inbound, parsed, partner_for_mailbox)
            return
        _receive(store, settings, inbound, request_id, parsed)
    except AdapterError as error:
        if error.status < 500:
            _count_refusal(store, inbound, error)
        correlation_id = _correlation(inbound.subject, inbound.local_id or inbound.message_id)
        refused = (parsed, correlation_id)
        answer_refusal(store, settings, inbound, refused, error, partner_for_mailbox)
        raise
    count_inbound(accepted=True)


def _count_refusal(store: Store, inbound: MeshInbound, error: AdapterError) -> None:
    """Count a refused message; the sender's mailbox stands in for the HTTP client."""
    count_inbound(
        accepted=False, reason=error.issues[0].code if error.issues else str(error.status)
    )
    with store.unit_of_work() as uow:
        uow.console.add_rejection(
            inbound.received_at, error.status, f"MESH mailbox {inbound.sender}"
        )


def _receive(
    store: Store, settings: Settings, inbound: MeshInbound, request_id: str, body: object
) -> None:
    correlation_id = _correlation(inbound.subject, request_id)

    def find_partner(uow: UnitOfWork, _endpoint: str | None) -> Partner | None:
        # Partners load at start, so a process keeps what it found (as $process-message does).
        key = (settings.database_url, str(settings.partners_path), inbound.sender.upper())
        if key not in _FOUND:
            partner = partner_for_mailbox(uow, inbound.sender)
            if partner is None:
                return None  # not kept: a mailbox that is no partner must not fill the cache
            if len(_FOUND) >= _CACHED_PARTNERS:
                _FOUND.clear()
            _FOUND[key] = partner
        return _FOUND[key]

    receive(
        store,
        settings,
        _directory(settings.directory_path if settings.load_directory else None),
        body,
        (request_id, correlation_id),
        find_partner,
        inbound.received_at,
    )


def partner_for_mailbox(uow: UnitOfWork, mailbox: str) -> Partner | None:
    """The partner whose active MESH Endpoint is `mailbox` (of several: the first by id)."""
    query = SearchQuery("HealthcareService", (), count=_MANY)
    services = uow.resources.search("HealthcareService", query).resources
    for service in sorted(services, key=lambda s: str(s["id"])):
        partner = partner_for_service(uow, service["id"])
        if partner is None or not is_mesh_endpoint(partner.endpoint):
            continue
        if str(partner.endpoint["address"]).upper() == mailbox.upper():
            return partner
    return None


def _guid(value: str | None, name: str) -> str:
    """A GUID from the envelope, in lower case (so case cannot dodge the duplicate check)."""
    try:
        parsed = uuid.UUID(value or "")
    except ValueError:
        parsed = None
    if parsed is None or len(value or "") != 36:
        raise InvalidInput(
            Issue(f"The MESH {name} must be a GUID (8-4-4-4-12): it is the message's X-Request-Id.")
        )
    return str(parsed)


def _correlation(subject: str | None, request_id: str) -> str:
    try:
        if subject and len(subject) == 36:
            return str(uuid.UUID(subject))
    except ValueError:
        pass
    return str(uuid.uuid5(_CORRELATION, request_id))


def _body(raw: bytes, settings: Settings) -> object:
    if len(raw) > settings.max_body_bytes:
        raise PayloadTooLarge(f"The MESH message is larger than {settings.max_body_bytes} bytes.")
    try:
        return load_json(raw, settings.max_json_depth)
    except JsonInputError as exc:
        raise InvalidInput(Issue(f"The MESH message body {exc}.", code=exc.code)) from None


@functools.cache
def _directory(path: Path | None) -> list[dict]:
    """The service directory's resources (read once per process; [] when none is loaded)."""
    return directory_resources(path) if path is not None else []
