"""Our MESH inbox: poll, download, hand each message to its workflow's handler, acknowledge.

A message is acknowledged (so MESH deletes it) only after its handler returned, that is after its
effect is committed, or after it was found bad or of a workflow no handler takes:

    handler returns                            accepted   acknowledged
    handler raises AdapterError 409 duplicate  duplicate  acknowledged (it was taken before)
    handler raises another AdapterError < 500  refused    acknowledged (retrying cannot help)
    no handler for the workflow id             unhandled  acknowledged
    anything else (database down, a bug)       left       NOT acknowledged: read again next poll
                                                          (a message that meets a bug is logged at
                                                          every poll rather than lost; MESH expires
                                                          it after 5 days unacknowledged)

Every outcome but `left` is audited (an AuditEvent naming the MESH message id and the sender's
mailbox) and logged with the message id, workflow and outcome: never the body, never a reason
that could quote it. A message acknowledged twice (two pollers, or an acknowledgement lost when
MESH went away) is harmless: the handler's duplicate check drops the second. MESH's own reports
(Mex-MessageType REPORT, e.g. a non-delivery report) go to the report handler whatever their
workflow id (they carry the reported message's), never to that workflow's handler.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import requests
from mesh_client import MeshClient

from adapter.errors import AdapterError
from adapter.exchange.mesh_connection import mesh_client
from adapter.exchange.mesh_workflows import handler_for, report_handler
from adapter.mapping import codes
from adapter.services import audit
from adapter.settings import Settings
from adapter.store import Store

logger = logging.getLogger(__name__)
Clock = Callable[[], datetime]
ACCEPTED, DUPLICATE, REFUSED, UNHANDLED, LEFT = (
    "accepted",
    "duplicate",
    "refused",
    "unhandled",
    "left",
)
REPORT = "REPORT"  # Mex-MessageType of MESH's own reports (else DATA)
MAX_PER_POLL = 500  # MESH lists at most 500 at a time; the next poll takes the rest
_UNHANDLED_STATUS = 422  # for the audit: a workflow we do not take


@dataclass(frozen=True)
class MeshInbound:
    """One message downloaded from our MESH inbox."""

    message_id: str  # MESH's id of this message
    sender: str  # the sender's mailbox id (Mex-From)
    workflow_id: str | None
    local_id: str | None  # the sender's own id of the message (Mex-LocalID)
    subject: str | None
    body: bytes
    received_at: datetime
    report: MeshReport | None = None  # when MESH itself reports on a message we sent


@dataclass(frozen=True)
class MeshReport:
    """A MESH REPORT message (Mex-MessageType REPORT): what happened to one we sent."""

    success: str  # Mex-StatusSuccess: ERROR for a non-delivery report
    code: str  # Mex-StatusCode, e.g. 14 (not collected within 5 days)
    description: str  # Mex-StatusDescription, MESH's fixed text
    linked_message_id: str  # Mex-LinkedMsgID: MESH's id of the message it is about


@dataclass
class PollResult:
    """How many messages of one poll ended in each outcome."""

    counts: dict[str, int] = field(default_factory=dict)
    cut_short: bool = False  # stopped before the last listed message: take the rest soon

    def add(self, outcome: str) -> None:
        """Count one message's outcome."""
        self.counts[outcome] = self.counts.get(outcome, 0) + 1

    @property
    def taken(self) -> int:
        """Messages acknowledged (every outcome but left)."""
        return sum(n for outcome, n in self.counts.items() if outcome != LEFT)


class MeshInbox:
    """Polls our MESH mailbox; `poll_once` takes what is waiting."""

    def __init__(
        self,
        store: Store,
        settings: Settings,
        client: MeshClient | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.store = store
        self.settings = settings
        self._client = client
        self._clock = clock or (lambda: datetime.now(UTC))

    @property
    def client(self) -> MeshClient:
        """The client of our mailbox (built on first use)."""
        if self._client is None:
            self._client = mesh_client(self.settings)
        return self._client

    def close(self) -> None:
        """Close the client's connections."""
        if self._client is not None:
            self._client.close()

    def poll_once(self, go_on: Callable[[], bool] = lambda: True) -> PollResult:
        """Take every message waiting (up to MAX_PER_POLL); MESH errors end the poll early.

        `go_on` is asked before each message: False ends the poll there (cut_short), so a
        worker can stop, or send what waits, between messages of a long inbox.
        """
        result = PollResult()
        try:
            ids = self.client.list_messages(max_results=MAX_PER_POLL)
        except requests.RequestException as exc:
            logger.warning("MESH inbox: listing failed: %s", _why(exc))
            return result
        for message_id in ids:
            if not go_on():
                result.cut_short = True
                break
            outcome = self.take(message_id)
            result.add(outcome)
            if outcome == LEFT and not self._reachable():
                break  # MESH went away: the rest waits for the next poll
        return result

    def take(self, message_id: str) -> str:
        """Download, handle and acknowledge one message; its outcome."""
        try:
            inbound = self._download(message_id)
        except requests.RequestException as exc:
            logger.warning("MESH message %s: download failed: %s", message_id, _why(exc))
            return LEFT
        outcome = self._handle(inbound)
        logger.info(
            "MESH message %s from %s, workflow %s: %s",
            message_id,
            inbound.sender,
            inbound.workflow_id,
            outcome,
        )
        if outcome == LEFT:
            return LEFT
        if outcome == UNHANDLED and not self._audit_unhandled(inbound):
            return LEFT  # not recorded: not acknowledged either
        try:
            self.client.acknowledge_message(message_id)
        except requests.RequestException as exc:  # taken again next poll: a duplicate then
            logger.warning("MESH message %s: acknowledgement failed: %s", message_id, _why(exc))
        return outcome

    def _download(self, message_id: str) -> MeshInbound:
        message = self.client.retrieve_message(message_id)
        try:
            body = message.read()
        finally:
            message.close()
        return MeshInbound(
            message_id=message_id,
            sender=str(message.sender or ""),
            workflow_id=message.workflow_id,
            local_id=message.local_id,
            subject=message.subject,
            body=body,
            received_at=self._clock(),
            report=_report(message) if message.message_type == REPORT else None,
        )

    def _handle(self, inbound: MeshInbound) -> str:
        """The outcome of handing the message to its workflow's handler."""
        # MESH's own reports come under the reported message's workflow: never to its handler.
        handler = report_handler() if inbound.report else handler_for(inbound.workflow_id)
        if handler is None:
            return UNHANDLED
        requestor = audit.Requestor(client_id=_requestor(inbound))
        entities = [audit.Entity(identifier=(_message_id_system(), inbound.message_id))]
        try:
            if self.settings.audit:
                with audit.audited(
                    self.store, "operation", requestor, self.settings.fhir_base_url, entities
                ):
                    handler(self.store, self.settings, inbound)
            else:
                handler(self.store, self.settings, inbound)
        except AdapterError as error:
            if error.status >= 500:
                logger.warning("MESH message %s: %s", inbound.message_id, type(error).__name__)
                return LEFT
            codes_found = sorted({i.code for i in error.issues})
            duplicate = error.status == 409 and "duplicate" in codes_found
            if not duplicate:  # status and issue codes only: diagnostics may quote the message
                logger.info(
                    "MESH message %s refused: %d %s",
                    inbound.message_id,
                    error.status,
                    " ".join(codes_found),
                )
            return DUPLICATE if duplicate else REFUSED
        except Exception as error:  # transient (the database is down) or a bug: not acknowledged
            logger.warning("MESH message %s: %s", inbound.message_id, type(error).__name__)
            return LEFT
        return ACCEPTED

    def _audit_unhandled(self, inbound: MeshInbound) -> bool:
        """Audit a message of a workflow no handler takes; False if that could not be stored."""
        if not self.settings.audit:
            return True
        event = audit.audit_event(
            "operation",
            audit.outcome_code(_UNHANDLED_STATUS),
            audit.Requestor(client_id=_requestor(inbound)),
            self.settings.fhir_base_url,
            [audit.Entity(identifier=(_message_id_system(), inbound.message_id))],
            _UNHANDLED_STATUS,
        )
        try:
            with self.store.unit_of_work() as uow:
                audit.record(uow, event)
        except Exception as error:  # the database is down: read it again next poll
            logger.warning("MESH message %s: %s", inbound.message_id, type(error).__name__)
            return False
        return True

    def _reachable(self) -> bool:
        try:
            self.client.ping()
        except requests.RequestException:
            return False
        return True


def _report(message: Any) -> MeshReport:
    """The Mex-Status… headers of a REPORT message, as mesh-client exposes them."""
    headers = {k.lower(): str(v) for k, v in message.mex_headers()}
    return MeshReport(
        success=headers.get("statussuccess", ""),
        code=headers.get("statuscode", ""),
        description=headers.get("statusdescription", ""),
        linked_message_id=headers.get("linkedmsgid", ""),
    )


def _requestor(inbound: MeshInbound) -> str:
    """Who sent it, for the audit: a mailbox, or MESH itself (its reports come from none)."""
    return f"MESH mailbox {inbound.sender}" if inbound.sender else "MESH"


def _message_id_system() -> str:
    return codes.url("identifier.mesh-message-id")


def _why(exc: requests.RequestException) -> str:
    """Why a MESH request failed: the status, or the kind of error (never a URL or body)."""
    response = getattr(exc, "response", None)
    if response is not None:
        return f"HTTP {response.status_code}"
    return type(exc).__name__
