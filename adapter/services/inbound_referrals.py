"""Referral messages from partners: a new referral becomes a native referral here; a
cancellation closes it. Both run in the receiver's unit of work, beside its inbound_message row
(routed by adapter/services/inbound_handlers.py: `new`; `update` and our own `delete`).
"""

from __future__ import annotations

from dataclasses import replace

from adapter.errors import Conflict, Issue, NotFound, Unprocessable
from adapter.exchange.partners import Partner, ods_code
from adapter.mapping.common import string_or_none
from adapter.mapping.inbound_referral import (
    Sender,
    inbound_local_id,
    referral_from_message,
    sender_request_key,
    source_for,
)
from adapter.mapping.message_bundle import MessageBundle
from adapter.native.referral_schema import load_referral
from adapter.services.inbound import Handled, Inbound
from adapter.services.referrals import receive_referral_in, replace_referral_content
from adapter.settings import Settings
from adapter.store import ReferralRecord, UnitOfWork

# BaRS cancels with reason `update` and ServiceRequest.status revoked or entered-in-error; our
# own cancellations (adapter/exchange/message.py) say `delete` with status revoked.
CANCELLED_STATUSES = ("revoked", "entered-in-error")
CLOSED = "closed"
MAX_NOTES = 20


def receive_new_referral(
    uow: UnitOfWork, settings: Settings, directory: list[dict], inbound: Inbound
) -> Handled:
    """servicerequest-request / new: the focus ServiceRequest becomes a referral here (201)."""
    message = MessageBundle(inbound.bundle)
    request = message.focus(inbound.header, "ServiceRequest")
    if request.get("status") != "active":
        raise Unprocessable(
            Issue(
                "Expected a new referral's ServiceRequest.status to be active.",
                code="business-rule",
                expression=("ServiceRequest.status",),
            )
        )
    received = referral_from_message(
        message,
        request,
        sender_of(inbound.partner),
        inbound_site(settings, directory),
        inbound.received_at,
    )
    record = receive_referral_in(uow, received.referral, directory, received.warnings)
    return Handled(201, referral_id=record.id)


def cancel_referral(
    uow: UnitOfWork, settings: Settings, directory: list[dict], inbound: Inbound
) -> Handled:
    """servicerequest-request / update (or our `delete`) with the ServiceRequest revoked or
    entered-in-error: the referral made from it is closed, its ServiceRequest given that status.
    """
    message = MessageBundle(inbound.bundle)
    request = message.focus(inbound.header, "ServiceRequest")
    status = request.get("status")
    if status not in CANCELLED_STATUSES:
        raise Unprocessable(
            Issue(
                "Only a cancellation is accepted as an update to a referral: expected "
                f"ServiceRequest.status {' or '.join(CANCELLED_STATUSES)}.",
                code="business-rule",
                expression=("ServiceRequest.status",),
            )
        )
    record = received_referral(uow, inbound.partner, sender_request_key(message, request))
    if record.status == CLOSED:
        raise Conflict(
            Issue(
                "The referral is no longer active here (already closed or cancelled), so it "
                "cannot be cancelled.",
                code="conflict",
                expression=("ServiceRequest.status",),
            )
        )
    content = load_referral(record.native)
    note = f"Cancelled by the referrer ({status}) at {inbound.received_at.isoformat()}."
    closed = replace(
        content,
        status=CLOSED,
        notes=(*content.notes, note) if len(content.notes) < MAX_NOTES else content.notes,
    )
    updated = replace_referral_content(
        uow, record, closed, directory, record.version, request_status=str(status)
    )
    return Handled(200, referral_id=updated.id)


def received_referral(uow: UnitOfWork, partner: Partner, key: str) -> ReferralRecord:
    """The referral made from this partner's ServiceRequest, or NotFound."""
    record = None
    if partner.ods_code:
        record = uow.referrals.get_by_local_id(inbound_local_id(partner.ods_code, key))
    # A referral entered through the native API with the same local_id was not sent by them.
    if record is None or not uow.inbound.has_referral(record.id):
        raise NotFound(
            Issue(
                "No referral received here from this sender has this ServiceRequest.",
                code="not-found",
                expression=("ServiceRequest.identifier",),
            )
        )
    return record


def sender_of(partner: Partner) -> Sender:
    """The sending partner, as the converter needs it: ODS code, name, referral source."""
    if not partner.ods_code:
        # Partner rules require an ODS code; without one no sender could be named.
        raise Unprocessable(Issue("The sending partner has no ODS code.", code="business-rule"))
    return Sender(
        ods_code=partner.ods_code,
        name=string_or_none(partner.organization.get("name")),
        source=source_for(partner.pathways, partner.recipient_type),
    )


def inbound_site(settings: Settings, directory: list[dict]) -> str:
    """Where received referrals are placed: LD_ADAPTER_INBOUND_SITE, else the first Location of
    the first L&D service our trust (LD_ADAPTER_ODS_CODE) provides in the service directory."""
    if settings.inbound_site:
        return settings.inbound_site
    ours = our_organizations(settings, directory)
    for resource in directory:
        if resource.get("resourceType") != "HealthcareService" or resource.get("active") is False:
            continue
        if resource.get("providedBy", {}).get("reference") not in ours:
            continue
        for location in resource.get("location", ()):
            site = str(location.get("reference", "")).removeprefix("Location/")
            if site:
                return site
    raise Unprocessable(
        Issue(
            "This service has no site to place received referrals at (LD_ADAPTER_INBOUND_SITE).",
            code="business-rule",
        )
    )


def our_organizations(settings: Settings, directory: list[dict]) -> set[str]:
    """References to the directory's Organizations with our ODS code (LD_ADAPTER_ODS_CODE)."""
    return {
        f"Organization/{r['id']}"
        for r in directory
        if r.get("resourceType") == "Organization" and ods_code(r) == settings.ods_code
    }
