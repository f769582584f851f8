"""ITK3 acknowledgements from a GP practice move the onward referral on: delivered, filed, failed.

MESH accepting our Send Document message only means it is in MESH (`sent`). The practice's
infrastructure acknowledgement says its system received it (`delivered`); the business one
(ITK3 30001) that it is filed in the person's record (`filed`, the onward referral completed).
A negative one of either kind fails it, with the ITK3 code and display as the reason (the
practice's free text is not kept: it may name the person). An ack is matched to our message by
MessageHeader.response.identifier, which is our outbox message id; one that answers nothing of
ours is refused, so the inbox acknowledges and audits it and it is not fetched again.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from adapter.errors import InvalidInput, Issue, Unprocessable
from adapter.exchange.gp_send_document import is_send_document
from adapter.exchange.itk_ack import BUSINESS, AckError, ItkAck, read_ack
from adapter.exchange.mesh_inbox import MeshInbound
from adapter.mapping.onward_referral import task_with_delivery_status
from adapter.services.common import bare_id
from adapter.settings import Settings
from adapter.store import Store, UnitOfWork
from adapter.store.onward_referrals import OnwardReferralRecord, onward_lock_key

DELIVERED, FILED, FAILED = "delivered", "filed", "failed"
# How far each status has got: an ack never moves an onward referral back (acks may cross).
_RANK = {DELIVERED: 1, FILED: 2, FAILED: 3}
_RECORD_STATUS = {FILED: "completed", FAILED: "rejected"}


def ack_status(ack: ItkAck) -> str:
    """The ld-delivery-status an ack moves the onward referral to."""
    if not ack.positive:
        return FAILED
    return FILED if ack.kind == BUSINESS else DELIVERED


def receive_gp_ack(store: Store, settings: Settings, inbound: MeshInbound) -> str:
    """The MESH handler of workflow GPFED_CONSULT_REPORT_ACK (adapter.exchange.mesh_workflows).

    Returns the id of the onward referral the ack answers. An ack that cannot be read (400), or
    answers no message of ours (422), is refused: the inbox acknowledges and audits it as a
    failure rather than reading it again at every poll.
    """
    try:
        ack = read_ack(inbound.body)
    except AckError as exc:  # AckError says what is missing, never the content
        raise InvalidInput(
            Issue(f"The message is not a usable ITK3 response: {exc}.", code="structure")
        ) from None
    moved = _record_ack(store, ack, inbound.received_at)
    if moved is None:
        raise Unprocessable(
            Issue("The ITK3 response answers no message of ours.", code="not-found")
        )
    return moved


def _record_ack(store: Store, ack: ItkAck, at: datetime) -> str | None:
    """The onward referral id the ack answers, its outcome recorded; None if it answers none."""
    with store.unit_of_work() as uow:
        record = _answered(uow, ack)
        if record is None:
            return None
        _record(uow, record, ack, at)
        return record.id


def _answered(uow: UnitOfWork, ack: ItkAck) -> OnwardReferralRecord | None:
    message = uow.outbox.get(ack.responds_to)
    if message is None or not is_send_document(message.headers) or not message.onward_referral_id:
        return None
    # The same key the worker and a cancel take: the Task moves one way at a time.
    uow.lock_keys([onward_lock_key(message.onward_referral_id)])
    return uow.onward_referrals.get(message.onward_referral_id)


def _record(uow: UnitOfWork, record: OnwardReferralRecord, ack: ItkAck, at: datetime) -> None:
    if ack.ack_id and any(o.get("message_id") == ack.ack_id for o in record.outcomes):
        return  # taken before (MESH lets a message be read again until it is acknowledged)
    status = ack_status(ack)
    outcome = {
        "status": status,
        "reason": None if ack.positive else ack.reason,
        "at": at.isoformat(),
        "message_id": ack.ack_id or None,
        "acknowledgement": ack.kind,
        "itk_code": ack.code,
    }
    moves = record.status == "active" and _RANK[status] > _reached(record)
    if moves:
        _move_task(uow, record, status, None if ack.positive else ack.reason, at)
    new_status = _RECORD_STATUS.get(status, record.status) if moves else record.status
    uow.onward_referrals.update(
        replace(record, status=new_status, updated_at=at, outcomes=[*record.outcomes, outcome]),
        record.version,
    )


def _reached(record: OnwardReferralRecord) -> int:
    return max((_RANK.get(o.get("status"), 0) for o in record.outcomes), default=0)


def _move_task(
    uow: UnitOfWork, record: OnwardReferralRecord, status: str, reason: str | None, at: datetime
) -> None:
    task = uow.resources.read("Task", bare_id(record.resource_ids.get("task")) or "")
    if task is None:
        return
    moved = task_with_delivery_status(task, status, at)
    moved.pop("statusReason", None)
    if reason:
        moved["statusReason"] = {"text": reason}
    uow.resources.update(moved, expected_version=task["meta"]["versionId"])
