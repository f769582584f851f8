"""Onward referral use cases: refer a person on, read, list, cancel. Each runs in one unit of work.

No request calls a partner: the onward referral, its FHIR resources and the outbound message are
written in one transaction (the outbox) and a delivery worker sends the message.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from adapter.errors import Conflict, Issue, NotFound, Unprocessable
from adapter.exchange.gp_send_document import is_send_document, is_send_document_endpoint
from adapter.exchange.model import DELIVERED, ONWARD_REFERRAL, PENDING_STATES, OutboundMessage
from adapter.exchange.partners import (
    FHIR_MESSAGING,
    Partner,
    is_mesh_endpoint,
    partner_for_service,
    transport_of,
)
from adapter.native.onward_referral_schema import OnwardReferralRequest, dump_onward_referral
from adapter.services.common import ensure_conformant, new_id
from adapter.services.gp_documents import GpSender
from adapter.services.onward_messages import (
    Built,
    build_cancellation,
    build_onward,
    onward_from_request,
    sender,
)
from adapter.services.onward_view import OnwardReferralView
from adapter.services.referrals import existing_referral, move_referral_on
from adapter.settings import Settings
from adapter.store import ReferralRecord, Store, UnitOfWork
from adapter.store.onward_referrals import OnwardReferralRecord, onward_lock_key

REFERRED_ON = "referred-on"
GP_PATHWAY = "gp"


def refer_onward(
    store: Store,
    settings: Settings,
    referral_id: str,
    request: OnwardReferralRequest,
    directory: list[dict],
) -> OnwardReferralView:
    """Check consent, make the ServiceRequest, Task and message, queue it; all or nothing."""
    ours = sender(settings, directory)
    with store.unit_of_work() as uow:
        referral = existing_referral(uow, referral_id)
        _identity_checked(referral, request)
        partner = _partner(uow, request)
        now = datetime.now(UTC)
        onward = onward_from_request(request, now)
        record_id, message_id = new_id(), new_id()
        gp = _gp_sender(settings, partner, request, directory)
        built = build_onward(uow, referral, partner, onward, ours, record_id, message_id, gp)
        # An STU3 ITK3 message was checked against the STU3 models when built; ours is R4.
        ensure_conformant([*built.resources, *([] if gp else [built.message])])
        uow.resources.create_many(built.resources)
        record = uow.onward_referrals.add(
            OnwardReferralRecord(
                id=record_id,
                version=1,
                referral_id=referral.id,
                created_at=now,
                updated_at=now,
                pathway=request.pathway,
                partner_service=partner.id,
                status="active",
                correlation_id=str(uuid.uuid4()),
                native=dump_onward_referral(request),
                resource_ids=built.resource_ids,
            )
        )
        message = uow.outbox.add(_outbound(settings, record, partner, built, ONWARD_REFERRAL, now))
        move_referral_on(uow, referral, REFERRED_ON, directory)
        return OnwardReferralView(record, [message])


def cancel_onward_referral(
    store: Store, settings: Settings, onward_id: str, directory: list[dict]
) -> OnwardReferralView:
    """Cancel an active onward referral, BaRS style.

    A message still waiting in the outbox is withdrawn and nothing is sent. If the partner has it,
    or may have it (a worker holds it right now, or an attempt got no clear answer), a
    cancellation message follows, kept behind it by the per-partner, per-person ordering.
    """
    ours = sender(settings, directory)
    with store.unit_of_work() as uow:
        # The delivery worker takes the same lock before it moves the Task on.
        uow.lock_keys([onward_lock_key(onward_id)])
        record = _existing(uow, onward_id)
        if record.status != "active":
            raise Conflict(
                Issue(
                    "Only an active onward referral can be cancelled; "
                    f"this one is {record.status}.",
                    code="business-rule",
                )
            )
        sent = _withdraw_waiting(uow, record)
        partner = partner_for_service(uow, record.partner_service)
        now = datetime.now(UTC)
        # GP Connect Send Document has no cancellation: what the practice filed, it keeps.
        gp_document = sent is not None and is_send_document(sent.headers)
        had_it = sent is not None and not gp_document and _partner_may_have_it(sent)
        built = build_cancellation(
            uow, record, partner, sent.body if sent else None, ours, new_id(), now, had_it
        )
        ensure_conformant([*built.resources, *([built.message] if built.message else [])])
        for resource in built.resources:
            uow.resources.update(resource, expected_version=resource["meta"]["versionId"])
        record = uow.onward_referrals.update(
            replace(record, status="cancelled", updated_at=now), record.version
        )
        if built.message and partner is not None:
            uow.outbox.add(_outbound(settings, record, partner, built, "cancellation", now))
        return OnwardReferralView(record, uow.outbox.for_onward_referral(record.id))


def _gp_sender(
    settings: Settings, partner: Partner, request: OnwardReferralRequest, directory: list[dict]
) -> GpSender | None:
    """For a GP practice reached by MESH, what a Send Document message needs; else None."""
    if not (is_mesh_endpoint(partner.endpoint) and is_send_document_endpoint(partner.endpoint)):
        return None
    if request.pathway != GP_PATHWAY:
        raise Unprocessable(
            Issue(
                "This partner is reached by GP Connect Send Document over MESH, which carries "
                "only the gp pathway.",
                code="business-rule",
                expression=("pathway",),
            )
        )
    return GpSender(directory, settings.mesh_mailbox or None)


def _withdraw_waiting(uow: UnitOfWork, record: OnwardReferralRecord) -> OutboundMessage | None:
    """Cancel the messages no worker holds; the referral message as it now stands, if any."""
    messages = uow.outbox.for_onward_referral(record.id)
    pending = [m.id for m in messages if m.status in PENDING_STATES]
    if pending:
        uow.outbox.cancel_pending(pending)  # a message a worker holds now stays pending
    return next(
        (m for m in uow.outbox.for_onward_referral(record.id) if m.kind == ONWARD_REFERRAL),
        None,
    )


def _partner_may_have_it(message: OutboundMessage) -> bool:
    """True unless the referral message certainly never reached the partner.

    Delivered, or still pending after the others were cancelled (a worker is sending it now), or
    an attempt that ended without a clear refusal: a timeout or a 5xx may come after the partner
    stored it. A 4xx refusal, or no attempt at all, means the partner does not have it.
    """
    if message.status == DELIVERED or message.status in PENDING_STATES:
        return True
    code = message.last_status_code
    return message.attempts > 0 and (code is None or code >= 500)


def get_onward_referral(store: Store, onward_id: str) -> OnwardReferralView:
    """One onward referral with its messages, or NotFound."""
    with store.unit_of_work(read_only=True) as uow:
        record = _existing(uow, onward_id)
        return OnwardReferralView(record, uow.outbox.for_onward_referral(record.id))


def onward_referrals_of(store: Store, referral_id: str) -> list[OnwardReferralView]:
    """The onward referrals made for a referral, oldest first."""
    with store.unit_of_work(read_only=True) as uow:
        existing_referral(uow, referral_id)
        return [
            OnwardReferralView(record, uow.outbox.for_onward_referral(record.id))
            for record in uow.onward_referrals.for_referral(referral_id)
        ]


def _identity_checked(referral: ReferralRecord, request: OnwardReferralRequest) -> None:
    """Refuse to pass on a person whose stored identity disagreed with the referral, unchecked.

    The partner would get the stored Patient: if the match by NHS number was wrong, that is
    someone else's identity. The practitioner says they have checked with identity_confirmed.
    """
    if not referral.warnings or request.identity_confirmed:
        return
    fields = sorted({e for w in referral.warnings for e in w.get("expression", [])})
    raise Unprocessable(
        Issue(
            "The referral was linked to a stored person whose details differ "
            f"({', '.join(fields) or 'see the referral warnings'}): check who this is, then "
            "send identity_confirmed: true.",
            code="business-rule",
            expression=("identity_confirmed",),
        )
    )


def _partner(uow: UnitOfWork, request: OnwardReferralRequest) -> Partner:
    """The partner service named by `to`, which must take this pathway."""
    partner = partner_for_service(uow, request.to)
    if partner is None:
        raise Unprocessable(
            Issue(
                "to must be the id of a partner service this adapter can send to "
                "(GET /fhir/HealthcareService lists them).",
                code="value",
                expression=("to",),
            )
        )
    if request.pathway not in partner.pathways:
        raise Unprocessable(
            Issue(
                f"The partner service does not take the {request.pathway} pathway; it takes "
                f"{', '.join(sorted(partner.pathways))}.",
                code="business-rule",
                expression=("pathway",),
            )
        )
    return partner


def _outbound(
    settings: Settings,
    record: OnwardReferralRecord,
    partner: Partner,
    built: Built,
    kind: str,
    now: datetime,
) -> OutboundMessage:
    """The outbox row for one message to the partner's Endpoint, due now."""
    return OutboundMessage(
        id=built.message["id"],
        request_id=str(uuid.uuid4()),
        correlation_id=record.correlation_id,
        endpoint_id=partner.endpoint["id"],
        transport=transport_of(partner.endpoint) or FHIR_MESSAGING,
        # One queue per partner and person: a cancellation never overtakes its referral.
        ordering_key=f"{partner.endpoint['id']}|{record.resource_ids['patient']}",
        kind=kind,
        body=built.message,
        created_at=now,
        next_attempt_at=now,
        expires_at=now + timedelta(seconds=settings.delivery_ttl),
        onward_referral_id=record.id,
        headers=built.headers,
    )


def _existing(uow: UnitOfWork, onward_id: str) -> OnwardReferralRecord:
    record = uow.onward_referrals.get(onward_id)
    if record is None:
        raise NotFound(Issue("No onward referral has this id.", code="not-found"))
    return record
