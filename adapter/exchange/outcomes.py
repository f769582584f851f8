"""What a delivery attempt changes: the outbox row, the onward referral's Task, the audit trail.

All in the worker's one transaction, and only while the worker still holds the message's lease:
a worker whose lease ran out (and another took the message) records nothing but its audit event.
The Task follows only while its onward referral is active: once cancelled, the cancel set it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from adapter.exchange.gp_send_document import is_send_document
from adapter.exchange.model import (
    CANCELLED,
    DEAD_LETTER,
    DELIVERED,
    ONWARD_REFERRAL,
    RETRYING,
    AttemptResult,
    Delivered,
    OutboundMessage,
    Rejected,
    TryAgain,
    Withdrawn,
)
from adapter.mapping.onward_referral import task_with_delivery_status
from adapter.services import audit
from adapter.settings import Settings
from adapter.store import UnitOfWork
from adapter.store.onward_referrals import onward_lock_key

TaskUpdate = Callable[[dict, str, datetime], dict]
SENT = "sent"  # a GP Connect message in the practice's MESH mailbox, not yet acknowledged
# For the audit, when HTTP gave no status (a withdrawn message is not sent, so not audited as one).
_NO_STATUS = {Delivered: 200, TryAgain: 503, Rejected: 400, Withdrawn: 409}


def record_result(
    uow: UnitOfWork,
    message: OutboundMessage,
    result: AttemptResult,
    owner: str,
    now: datetime,
    retry_delay: float,
    attempted: bool = True,
) -> OutboundMessage | None:
    """Store the result of one attempt (retry after `retry_delay` s); None if the lease was lost.

    `attempted` False: nothing was sent (time to live over, held or withdrawn before sending).
    """
    values = _result_values(message, result, now, retry_delay)
    if attempted:
        values.update(attempts=message.attempts + 1, last_attempt_at=now)
    else:
        values.pop("last_status_code")  # the last status the partner gave still stands
        if message.last_error and values["status"] == DEAD_LETTER:
            # The partner's last answer is what the operator needs; say why it ends here too.
            values["last_error"] = f"{values['last_error']}; last attempt: {message.last_error}"
    stored = uow.outbox.finish(message.id, owner, values)
    if stored is None:
        return None
    status_code = values.get("last_status_code") if attempted else None
    _add_attempt(uow, stored, now, owner, status_code, values.get("partner_outcome"))
    if stored.status != message.status:
        follow_task(uow, stored, now)
    return stored


def undelivered_after_all(
    uow: UnitOfWork,
    message: OutboundMessage,
    why: tuple[str, str],  # (the reason kept, who said so: for the attempt's record)
    at: datetime,
    outcome: dict | None = None,
) -> OutboundMessage | None:
    """Dead-letter a delivered message MESH or the partner later said did not arrive or was
    refused; the Task follows. None if it is no longer delivered (a resend or replay is on)."""
    reason, source = why
    stored = uow.outbox.undelivered(message.id, reason, outcome)
    if stored is None:
        return None
    _add_attempt(uow, stored, at, source, None, outcome)
    follow_task(uow, stored, at)
    return stored


def _add_attempt(
    uow: UnitOfWork,
    stored: OutboundMessage,
    at: datetime,
    worker: str,
    status_code: int | None,
    partner_outcome: dict | None,
) -> None:
    """Note the attempt for the console: the row keeps only the last, the console shows each."""
    uow.console.add_attempt(
        stored.id,
        stored.endpoint_id,
        {
            "at": at,
            "result": stored.status,
            "status_code": status_code,
            "error": stored.last_error,
            "partner_outcome": partner_outcome,
            "worker": worker,
        },
    )


def _result_values(
    message: OutboundMessage, result: AttemptResult, now: datetime, retry_delay: float
) -> dict[str, Any]:
    values: dict[str, Any] = {"last_status_code": result.status_code}
    if isinstance(result, Delivered):
        # What went wrong before (and a partner's outcome) no longer matters once it arrived.
        done = {"status": DELIVERED, "delivered_at": now, "last_error": None}
        return {**values, **done, "partner_outcome": None}
    values["last_error"] = result.reason
    if isinstance(result, Withdrawn):
        return {**values, "status": CANCELLED}
    if isinstance(result, Rejected):
        return {**values, "status": DEAD_LETTER, "partner_outcome": result.outcome}
    assert message.expires_at is not None  # every queued message has a time to live
    if now >= message.expires_at:
        return {**values, "status": DEAD_LETTER}
    # Never later than the time to live: then the message is dead-lettered without waiting longer.
    next_attempt = min(now + timedelta(seconds=retry_delay), message.expires_at)
    return {**values, "status": RETRYING, "next_attempt_at": next_attempt}


def follow_task(
    uow: UnitOfWork, message: OutboundMessage, at: datetime, update: TaskUpdate | None = None
) -> None:
    """Move the onward referral's Task businessStatus to the message's delivery status.

    Only while the onward referral is active and unanswered: cancelling it set the Task, and a
    partner's response (services/inbound_responses.py) sets it after; it then stays so.
    """
    if message.kind != ONWARD_REFERRAL or not message.onward_referral_id:
        return
    # The cancel path takes the same key: the two never interleave reading and updating the Task.
    uow.lock_keys([onward_lock_key(message.onward_referral_id)])
    record = uow.onward_referrals.get(message.onward_referral_id)
    if record is None or record.status != "active" or record.outcomes:
        return  # once the partner has answered, the Task shows its answer, not our delivery
    reference = record.resource_ids.get("task")
    if not isinstance(reference, str):
        return
    task = uow.resources.read("Task", reference.split("/")[-1])
    if task is None:
        return
    changed = (update or task_with_delivery_status)(task, _delivery_status(message), at)
    if _content(changed) != _content(task):
        uow.resources.update(changed, expected_version=task["meta"]["versionId"])


def _delivery_status(message: OutboundMessage) -> str:
    """The ld-delivery-status of a message; a Send Document in MESH is only `sent` (acks follow)."""
    if is_send_document(message.headers) and message.status == DELIVERED:
        return SENT
    return message.status


def _content(resource: dict) -> dict:
    return {key: value for key, value in resource.items() if key != "meta"}


def attempt_event(
    message: OutboundMessage,
    result: AttemptResult,
    settings: Settings,
    owner: str,
    patient: str | None,
) -> dict:
    """The AuditEvent of one delivery attempt: the message, the partner Endpoint, the person."""
    status = result.status_code or _NO_STATUS[type(result)]
    outcome = audit.outcome_code(status if not isinstance(result, Delivered) else 200)
    entities = [
        audit.Entity(f"Bundle/{message.id}"),
        audit.Entity(f"Endpoint/{message.endpoint_id}"),
    ]
    if patient:
        entities.append(audit.Entity(patient))
    requestor = audit.Requestor(client_id=f"ld-adapter delivery worker {owner}")
    # The $process-message operation at the partner; the adapter is the client that asked.
    return audit.audit_event(
        "operation", outcome, requestor, settings.fhir_base_url, entities, status
    )


def patient_of_message(message: OutboundMessage) -> str | None:
    """`Patient/id` of the person the message is about (its Patient entry), if any."""
    return _patient_in(message.body)


def _patient_in(bundle: dict) -> str | None:
    """The first Patient in a Bundle, or in a Bundle inside it (an ITK3 message's document)."""
    for entry in bundle.get("entry", []):
        resource = entry.get("resource", {}) if isinstance(entry, dict) else {}
        if resource.get("resourceType") == "Patient" and isinstance(resource.get("id"), str):
            return f"Patient/{resource['id']}"
        if resource.get("resourceType") == "Bundle" and (found := _patient_in(resource)):
            return found
    return None
