"""MESH's reports on messages we sent: one MESH could not deliver is dead-lettered, its Task failed.

MESH accepting a message (our outbox row `delivered`, a Send Document's Task `sent`) does not mean
the recipient got it. When MESH cannot deliver it (not collected within 5 days, no mailbox for a
GP Connect address after routing, …) it puts a REPORT in our inbox (Mex-MessageType REPORT,
Mex-StatusSuccess ERROR) carrying the message's Mex-LocalID, Mex-LinkedMsgID and MESH's status
code. The message is found by Mex-LocalID (its outbox id for GP Connect, its request id else),
dead-lettered with the code as its reason, so an operator sees it and can replay it, and its Task
follows. The reason keeps MESH's fixed description only when it is plain text (never an address).
"""

from __future__ import annotations

import logging
import re

from adapter.errors import Unprocessable
from adapter.exchange.mesh_inbox import MeshInbound, MeshReport
from adapter.exchange.outcomes import undelivered_after_all
from adapter.settings import Settings
from adapter.store import Store

logger = logging.getLogger(__name__)
ERROR = "ERROR"  # Mex-StatusSuccess of a report that something failed
_PLAIN = re.compile(r"[A-Za-z0-9 ,.'()-]{1,120}")  # MESH's fixed texts; anything else is left out
_LONG_NUMBER = re.compile(r"\d{4}")


def receive_mesh_report(store: Store, settings: Settings, inbound: MeshInbound) -> None:
    """The MESH handler of REPORT messages (adapter.exchange.mesh_workflows.report_handler)."""
    report = inbound.report
    assert report is not None  # the inbox hands only REPORT messages here
    if report.success.upper() != ERROR:
        logger.info("MESH report %s: %s, nothing to do", inbound.message_id, report.success)
        return
    with store.unit_of_work() as uow:
        message = uow.outbox.sent_as(inbound.local_id or "")
        if message is None:
            raise Unprocessable(
                "MESH reported on no message of ours (Mex-LocalID)", code="not-found"
            )
        why = (undelivered_reason(report), f"MESH report {inbound.message_id}")
        if undelivered_after_all(uow, message, why, inbound.received_at) is None:
            # Not delivered (any more): a resend or a replay is under way.
            logger.info("MESH report on message %s, now %s: kept", message.id, message.status)
            return
    logger.warning("message %s: MESH could not deliver it (report %s)", message.id, report.code)


def undelivered_reason(report: MeshReport) -> str:
    """The dead letter's reason: MESH's status code, and its description when plain text."""
    code = report.code if report.code.isalnum() and len(report.code) <= 8 else "unknown"
    # Short fixed texts ("… after 5 days"); a long number could be an NHS number: left out.
    plain = _PLAIN.fullmatch(report.description) and not _LONG_NUMBER.search(report.description)
    detail = f": {report.description}" if plain else ""
    return f"MESH could not deliver it (report {code}{detail})"
