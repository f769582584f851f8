"""A partner's servicerequest-response to one of our onward referrals: its Task and status move.

MessageHeader.response.identifier names the message we sent (an outbox message id); only the
partner we sent it to may answer it. Every response is kept in the onward referral's `outcomes`
(history, oldest first); the Task and ServiceRequest show the latest.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from adapter.errors import Conflict, Issue, NotFound, Unprocessable
from adapter.exchange.model import ONWARD_REFERRAL
from adapter.exchange.response import OUTCOME, REJECTED_REASON, referred_request
from adapter.mapping import codes
from adapter.mapping.common import fhir_datetime
from adapter.services.common import bare_id
from adapter.services.inbound import Handled, Inbound
from adapter.settings import Settings
from adapter.store import UnitOfWork
from adapter.store.onward_referrals import OnwardReferralRecord, onward_lock_key

# What a Task.status means when a partner sends no ld-referral-outcome businessStatus.
_FROM_TASK_STATUS = {
    "accepted": "accepted",
    "rejected": "rejected",
    "in-progress": "booked",
    "completed": "completed",
}
# ... and a ServiceRequest.status, when the response has no Task: still active means taken on.
_FROM_REQUEST_STATUS = {"active": "accepted", "revoked": "rejected", "completed": "completed"}
# The onward referral's own status after each outcome (the others leave it active).
_RECORD_STATUS = {"rejected": "rejected", "completed": "completed"}


def handle_response(
    uow: UnitOfWork, settings: Settings, directory: list[dict], inbound: Inbound
) -> Handled:
    """Record the partner's answer on the onward referral it names; 404 if it names none of ours."""
    record = _answered(uow, inbound)
    uow.lock_keys([onward_lock_key(record.id)])  # as the worker and a cancel do
    record = uow.onward_referrals.get(record.id) or record
    if record.status == "cancelled":
        raise Conflict(
            Issue("This onward referral was cancelled here before the response.", code="conflict")
        )
    task_in_message = _task(inbound.bundle)
    code = _outcome(task_in_message, inbound.bundle)
    reason = _reason(task_in_message) if code == "rejected" else None
    at = inbound.received_at
    outcome = {"status": code, "reason": reason, "at": at.isoformat(), "message_id": None}
    outcome["message_id"] = inbound.bundle.get("id")
    _move_resources(uow, record, code, reason, at)
    status = _RECORD_STATUS.get(code, record.status)
    uow.onward_referrals.update(
        replace(record, status=status, updated_at=at, outcomes=[*record.outcomes, outcome]),
        record.version,
    )
    return Handled(200, onward_referral_id=record.id)


def _answered(uow: UnitOfWork, inbound: Inbound) -> OnwardReferralRecord:
    """The onward referral whose message the response names, if that partner was sent it."""
    response = inbound.header.get("response")
    identifier = response.get("identifier") if isinstance(response, dict) else None
    message = uow.outbox.get(identifier) if isinstance(identifier, str) and identifier else None
    record = None
    if message is not None and message.kind == ONWARD_REFERRAL and message.onward_referral_id:
        record = uow.onward_referrals.get(message.onward_referral_id)
    # A partner answering a message sent to another is told no more than for an unknown one.
    if record is None or record.partner_service != inbound.partner.id:
        raise NotFound(
            Issue(
                "MessageHeader.response.identifier names no message this service sent you.",
                code="not-found",
                expression=("Bundle.entry[0].resource.response.identifier",),
            )
        )
    return record


def _task(bundle: dict) -> dict:
    for entry in bundle.get("entry") or ():
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if isinstance(resource, dict) and resource.get("resourceType") == "Task":
            return resource
    return {}


def _outcome(task: dict, bundle: dict) -> str:
    """The ld-referral-outcome code of the response.

    Its Task's businessStatus, else the Task's status; a response with no Task (BaRS's own shape
    carries the ServiceRequest alone) is read from the focus ServiceRequest's status.
    """
    business = _object(task.get("businessStatus"))
    code = codes.code_from(OUTCOME, business.get("coding"))
    code = code or _FROM_TASK_STATUS.get(str(task.get("status")))
    if not task:
        focus = referred_request(bundle)
        code = code or _FROM_REQUEST_STATUS.get(str(focus.get("status")))
    if code is None:
        raise Unprocessable(
            Issue(
                "The response must carry a Task whose businessStatus is a code of "
                f"{codes.system(OUTCOME)} (or whose status is accepted, rejected, in-progress "
                "or completed), or, without a Task, a focus ServiceRequest whose status is "
                "active, revoked or completed.",
                code="not-supported",
                expression=("Task.businessStatus",),
            )
        )
    return code


def _reason(task: dict) -> str | None:
    """A rejection's BaRS reason code (Task.statusReason), if given."""
    reason = _object(task.get("statusReason"))
    return codes.code_from(REJECTED_REASON, reason.get("coding"))


def _object(value: object) -> dict:
    return value if isinstance(value, dict) else {}


def _move_resources(
    uow: UnitOfWork, record: OnwardReferralRecord, code: str, reason: str | None, at: datetime
) -> None:
    """Our Task and ServiceRequest follow the partner's answer (new versions: history kept)."""
    when = fhir_datetime(at)
    task = uow.resources.read("Task", bare_id(record.resource_ids["task"]) or "")
    if task is not None:
        moved = {
            **task,
            "status": codes.prop(OUTCOME, code, "task-status"),
            "businessStatus": {"coding": [codes.coding(OUTCOME, code)]},
            "lastModified": when,
        }
        moved.pop("statusReason", None)
        if reason:
            moved["statusReason"] = {"coding": [codes.coding(REJECTED_REASON, reason)]}
        uow.resources.update(moved, expected_version=task["meta"]["versionId"])
    request_id = bare_id(record.resource_ids["service_request"]) or ""
    request = uow.resources.read("ServiceRequest", request_id)
    wanted = codes.prop(OUTCOME, code, "service-request-status")
    if request is not None and request.get("status") != wanted:
        uow.resources.update(
            {**request, "status": wanted}, expected_version=request["meta"]["versionId"]
        )
