"""MESH's non-delivery reports: a message of ours MESH could not deliver is dead-lettered.

MESH puts a REPORT (Mex-MessageType REPORT, Mex-StatusSuccess ERROR) in the sender's inbox when a
message it had accepted cannot be delivered: not collected by the recipient within five days, or
no mailbox for the person after routing. It names our message by Mex-LocalID. The outbox message
(delivered, as far as MESH's acceptance went) becomes dead-letter, so operators see it and can
replay it, and the onward referral's Task follows (dead-letter: failed). The reason holds MESH's
status code only: its description may differ between MESH versions and is not ours to show.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from adapter.errors import InvalidInput, Issue
from adapter.exchange.model import OutboundMessage
from adapter.exchange.outcomes import follow_task
from adapter.settings import Settings
from adapter.store import Store, UnitOfWork

if TYPE_CHECKING:
    from adapter.exchange.mesh_inbox import MeshInbound

_STATUS_CODE = re.compile(r"\d{1,4}")


def receive_mesh_report(store: Store, settings: Settings, inbound: MeshInbound) -> None:
    """Dead-letter the message the report is about; InvalidInput if it names none of ours."""
    code = inbound.status_code if _STATUS_CODE.fullmatch(inbound.status_code or "") else "unknown"
    reason = f"MESH could not deliver it (MESH report, status code {code})"
    with store.unit_of_work() as uow:
        message = _ours(uow, inbound.local_id)
        if message is None:
            raise InvalidInput(
                Issue("The MESH report names no message of ours (Mex-LocalID).", code="not-found")
            )
        stored = uow.outbox.undelivered(message.id, reason)
        if stored is not None:  # else not delivered as far as we know: nothing to undo
            follow_task(uow, stored, inbound.received_at)


def _ours(uow: UnitOfWork, local_id: str | None) -> OutboundMessage | None:
    """Our message with this Mex-LocalID: a GP document's id, or a FHIR message's request id."""
    if not local_id:
        return None
    return uow.outbox.get(local_id) or uow.outbox.by_request_id(local_id)
