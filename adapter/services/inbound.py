"""Messages received from partners: one use case, `dispatch`, shared by every message kind.

$process-message checks who sent a message and that it is well formed and addressed to us, builds
an `Inbound` and calls `dispatch` inside one unit of work. dispatch stores the inbound_message row
first (its unique request_id is the duplicate check: a second transaction with the same id waits
for the first and then fails with 409), then runs the handler that the (event, reason) names in
adapter.services.inbound_handlers, then notes on the row what the handler created or changed. All
of it commits together, or none of it does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from adapter.errors import InvalidInput, Issue
from adapter.exchange.inbound_message import MessageCodes, message_codes, source_endpoint
from adapter.exchange.partners import Partner
from adapter.services.common import new_id
from adapter.settings import Settings
from adapter.store import InboundMessageRecord, UnitOfWork


@dataclass(frozen=True)
class Inbound:
    """A received message that passed the receiver's checks, and who sent it."""

    bundle: dict  # the message Bundle as received
    header: dict  # its MessageHeader
    request_id: str  # X-Request-Id (lower case)
    correlation_id: str  # X-Correlation-Id (lower case)
    partner: Partner  # the partner the caller's token is bound to
    received_at: datetime


@dataclass(frozen=True)
class Handled:
    """What a handler did: the HTTP status and what it created or changed."""

    status: int  # 200 or 201
    referral_id: str | None = None
    onward_referral_id: str | None = None


Handler = Callable[[UnitOfWork, Settings, list[dict], Inbound], Handled]


def unknown_workflow(found: MessageCodes) -> InvalidInput:
    """BaRS's answer to a combination of event, reason and category no handler takes."""
    named = ", ".join(
        f"{what} {value}"
        for what, value in (
            ("event", found.event or "(none from message-events-bars)"),
            ("reason", found.reason or "(none from message-reason-bars)"),
            ("category", "/".join(found.categories) or "(none)"),
        )
    )
    return InvalidInput(
        Issue(
            f"A combination of workflow variables this service does not take: {named}.",
            code="invariant",
            expression=("Bundle.entry[0].resource.eventCoding",),
        )
    )


def dispatch(
    uow: UnitOfWork, settings: Settings, directory: list[dict], inbound: Inbound
) -> Handled:
    """Record the message and run its handler, in the caller's one transaction.

    InvalidInput (invariant) for a combination no handler takes; Conflict (duplicate) for an
    X-Request-Id received before; whatever the handler raises (nothing is then stored).
    """
    from adapter.services.inbound_handlers import handler_for

    found = message_codes(inbound.bundle, inbound.header)
    handler = handler_for(found)
    if handler is None:
        raise unknown_workflow(found)
    record = _record(inbound, found)
    uow.inbound.add(record)  # first: a concurrent duplicate waits on this row, then fails
    handled = handler(uow, settings, directory, inbound)
    if handled.referral_id or handled.onward_referral_id:
        uow.inbound.set_effect(record.id, handled.referral_id, handled.onward_referral_id)
    return handled


def _record(inbound: Inbound, found: MessageCodes) -> InboundMessageRecord:
    return InboundMessageRecord(
        id=new_id(),
        request_id=inbound.request_id,
        correlation_id=inbound.correlation_id,
        bundle_id=str(inbound.bundle.get("id") or ""),
        event=found.event or "",
        reason=found.reason,
        partner_service=inbound.partner.id,
        sender_endpoint=source_endpoint(inbound.header) or "",
        received_at=inbound.received_at,
        body=inbound.bundle,
    )
