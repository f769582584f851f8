"""The delivery worker: claims due messages from the outbox and sends each to its partner.

Any number of workers, in any number of processes and hosts, share one outbox: each claims a
batch under a lease (adapter.store.outbox), sends the messages one by one and records each
result while it still holds the lease. Logs name the message, the partner Endpoint, the status
and the attempt, never what the message holds.
"""

from __future__ import annotations

import logging
import os
import random
import socket
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from adapter.exchange.mesh_inbox import MeshInbox
from adapter.exchange.model import (
    DEAD_LETTER,
    AttemptResult,
    DeliveryResult,
    OutboundMessage,
    Rejected,
    Transport,
    TryAgain,
    Withdrawn,
)
from adapter.exchange.outcomes import attempt_event, patient_of_message, record_result
from adapter.observe.metrics import count_delivery
from adapter.services import audit
from adapter.services.onward_checks import before_sending
from adapter.settings import Settings
from adapter.store import Store

logger = logging.getLogger(__name__)
Clock = Callable[[], datetime]
# One inbox poll takes messages for at most this long before the loop sends what waits (a full
# inbox of 500 takes some 45 s): urgent onward referrals do not queue behind it.
INBOX_SLICE_SECONDS = 5.0
_MAX_DOUBLINGS = 60  # 2**60 × base is past any cap; more would overflow a float
# Set when this process queues a message or is told to stop, so an idle in-process loop acts at
# once instead of at its next poll (workers elsewhere find the message when they next poll).
_NUDGED = threading.Event()


def wake() -> None:
    """Tell this process's delivery loop, if it runs one, that there is something to do."""
    _NUDGED.set()


def default_transports(settings: Settings) -> dict[str, Transport]:
    """The transports a worker uses unless given others: FHIR messaging over HTTP, and MESH."""
    from adapter.exchange.http_transport import FhirMessagingTransport
    from adapter.exchange.mesh_transport import MeshTransport

    return {"fhir-messaging": FhirMessagingTransport(settings), "mesh": MeshTransport(settings)}


@dataclass
class _Lease:
    """How long this worker holds its batch, and which of its messages it still holds."""

    until: datetime
    held: set[str]


class DeliveryWorker:
    """Claims due messages and delivers them one at a time; `run` until told to stop."""

    def __init__(
        self,
        store: Store,
        settings: Settings,
        transports: Mapping[str, Transport] | None = None,
        worker_id: str | None = None,
        clock: Clock | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.store = store
        self.settings = settings
        self.worker_id = worker_id or f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self._transports = transports
        self._clock = clock or (lambda: datetime.now(UTC))
        self._random = rng or random.Random()
        self._stop = threading.Event()  # set only by the event `run` is given
        self._inbox: MeshInbox | None = None
        if settings.mesh_enabled and settings.mesh_poll:
            self._inbox = MeshInbox(store, settings, clock=self._clock)
        self._next_poll = 0.0  # time.monotonic() of the next inbox poll
        self._beaten = -float("inf")  # time.monotonic() of the last heartbeat written

    @property
    def transports(self) -> Mapping[str, Transport]:
        """The transports by name (built on first use, so tests may pass their own)."""
        if self._transports is None:
            self._transports = default_transports(self.settings)
        return self._transports

    def run(self, stop: threading.Event) -> None:
        """Deliver until `stop` is set: the message being sent is finished, the rest given back."""
        self._stop = stop
        logger.info("delivery worker %s started", self.worker_id)
        while not stop.is_set():
            try:
                self.beat()
                handled = self.run_once()
            except Exception as error:  # e.g. the database is down: wait, then try again
                logger.warning("delivery worker %s: %s", self.worker_id, type(error).__name__)
                handled = 0
            self.poll_inbox_if_due()
            if not handled and not stop.is_set():
                _NUDGED.wait(self.settings.delivery_poll_interval)
                _NUDGED.clear()
        self.close()
        self._forget()
        logger.info("delivery worker %s stopped", self.worker_id)

    def close(self) -> None:
        """Close the transports' and the inbox's connections."""
        for transport in (self._transports or {}).values():
            close = getattr(transport, "close", None)
            if callable(close):
                close()
        if self._inbox is not None:
            self._inbox.close()

    def poll_inbox_if_due(self) -> int:
        """Poll our MESH inbox if it is configured and its interval has passed; messages taken."""
        if self._inbox is None or time.monotonic() < self._next_poll or self._stop.is_set():
            return 0
        self._next_poll = time.monotonic() + self.settings.mesh_poll_interval
        deadline = time.monotonic() + INBOX_SLICE_SECONDS
        try:
            result = self._inbox.poll_once(
                lambda: not self._stop.is_set() and time.monotonic() < deadline
            )
        except Exception as error:  # one poll's trouble must not stop delivery
            logger.warning("MESH inbox poll: %s", type(error).__name__)
            return 0
        if result.cut_short:  # the rest after the messages waiting to go out, not a whole interval
            self._next_poll = time.monotonic()
        return result.taken

    def beat(self) -> None:
        """Write this worker's heartbeat (for /readyz), at most every few seconds."""
        every = min(5.0, self.settings.worker_stale_seconds / 4)
        if time.monotonic() - self._beaten < every:
            return
        with self.store.unit_of_work() as uow:
            uow.monitoring.beat(self.worker_id, self._clock())
        self._beaten = time.monotonic()

    def _forget(self) -> None:
        try:
            with self.store.unit_of_work() as uow:
                uow.monitoring.forget(self.worker_id)
        except Exception as error:  # stopping anyway; the row is removed a day later
            logger.warning("delivery worker %s: %s", self.worker_id, type(error).__name__)

    def run_once(self) -> int:
        """Claim one batch of due messages and deliver them; returns how many were claimed."""
        now = self._clock()
        lease_until = now + timedelta(seconds=self.settings.delivery_lease_seconds)
        with self.store.unit_of_work() as uow:
            batch = uow.outbox.claim(self.worker_id, now, lease_until, self.settings.delivery_batch)
        endpoints: dict[str, dict | None] = {}
        lease = _Lease(lease_until, {m.id for m in batch})
        for index, message in enumerate(batch):
            if self._stop.is_set():
                self._release(batch[index:])
                break
            try:
                self.deliver(message, endpoints, lease, batch[index:])
                self.beat()  # a long batch is still the loop going round
            except Exception as error:  # one message's trouble must not hold up the rest
                # Its lease runs out and it is taken again then. Only the type: no patient data.
                logger.warning("message %s: %s, left leased", message.id, type(error).__name__)
        return len(batch)

    def deliver(
        self,
        message: OutboundMessage,
        endpoints: dict[str, dict | None],
        lease: _Lease | None = None,
        remaining: list[OutboundMessage] | None = None,
    ) -> None:
        """Check, send (unless its time to live is over or it may not go) and record one message."""
        if lease is not None and message.id not in lease.held:
            return  # its lease ran out: another worker may have it now
        if message.expires_at and self._clock() >= message.expires_at:
            self._record(message, TryAgain("time to live ended before delivery"), attempted=False)
            return
        stopped = self._not_to_send(message)
        if stopped is not None:
            self._record(message, stopped, attempted=False)
            return
        if lease is not None and not self._keep_lease(lease, remaining or [message]):
            return  # its lease ran out: another worker may have it now
        started = time.monotonic()
        result = self._send(message, endpoints)
        self._record(message, result, attempted=True, seconds=time.monotonic() - started)

    def _not_to_send(self, message: OutboundMessage) -> Withdrawn | TryAgain | None:
        """Whether the message must not go now: withdrawn for good, or held (tried again later)."""
        if not message.onward_referral_id:  # nothing to check: no statement (the common case)
            return None
        with self.store.unit_of_work(read_only=True) as uow:
            check = before_sending(uow, message)
        if check.withdraw:
            return Withdrawn(check.withdraw)
        if check.hold:
            # Held until an operator brings the partner back: look again at the backoff's cap.
            return TryAgain(check.hold, retry_after=self.settings.delivery_backoff_max)
        return None

    def _record(
        self, message: OutboundMessage, result: AttemptResult, attempted: bool, seconds: float = 0
    ) -> None:
        done = self._clock()
        with self.store.unit_of_work() as uow:
            stored = record_result(
                uow,
                message,
                result,
                self.worker_id,
                done,
                self.retry_delay(message, result),
                attempted,
            )
            if attempted and self.settings.audit:
                event = attempt_event(
                    message, result, self.settings, self.worker_id, patient_of_message(message)
                )
                audit.record(uow, event)
        status = stored.status if stored else "lease lost, not recorded"
        if stored is not None and (attempted or stored.status == DEAD_LETTER):
            # A message held back (not sent) is no failed attempt; one out of time is dead.
            count_delivery(stored.status, message.endpoint_id)
        _log_attempt(message, status, result, seconds, self.worker_id)

    def retry_delay(self, message: OutboundMessage, result: AttemptResult) -> float:
        """Seconds until the next attempt: full jitter, at least the partner's Retry-After."""
        if not isinstance(result, TryAgain):
            return 0.0
        settings = self.settings
        ceiling = settings.delivery_backoff_base * 2 ** min(message.attempts, _MAX_DOUBLINGS)
        jitter = self._random.uniform(0, min(settings.delivery_backoff_max, ceiling))
        return max(result.retry_after or 0.0, jitter)

    def _send(self, message: OutboundMessage, endpoints: dict[str, dict | None]) -> DeliveryResult:
        if message.endpoint_id not in endpoints:
            with self.store.unit_of_work(read_only=True) as uow:
                endpoints[message.endpoint_id] = uow.resources.read("Endpoint", message.endpoint_id)
        endpoint = endpoints[message.endpoint_id]
        if endpoint is None:
            return Rejected(f"the partner Endpoint {message.endpoint_id} is not in the store")
        transport = self.transports.get(message.transport)
        if transport is None:
            return Rejected(f"no transport named {message.transport}")
        try:
            return transport.send(message, endpoint)
        except Exception as error:  # a transport must not raise; if one does, try again later
            logger.warning("transport %s raised %s", message.transport, type(error).__name__)
            return TryAgain(f"the transport failed: {type(error).__name__}")

    def _keep_lease(self, lease: _Lease, remaining: list[OutboundMessage]) -> bool:
        """Right before a send: renew the leases still held if less than half is left.

        One attempt can take longer than `delivery_timeout` (a slow partner answering read by
        read, or OAuth: token, send, new token, send again); half a lease (and at least two
        timeouts) leaves room for it. Renewing only then keeps the common case to no extra
        statement.
        """
        now = self._clock()
        settings = self.settings
        margin = max(settings.delivery_lease_seconds / 2, 2 * settings.delivery_timeout)
        if now + timedelta(seconds=margin) >= lease.until:
            renewed = now + timedelta(seconds=settings.delivery_lease_seconds)
            ids = [m.id for m in remaining if m.id in lease.held]
            with self.store.unit_of_work() as uow:
                lease.held = set(uow.outbox.renew(ids, self.worker_id, now, renewed))
            lease.until = renewed
        return remaining[0].id in lease.held

    def _release(self, remaining: list[OutboundMessage]) -> None:
        with self.store.unit_of_work() as uow:
            uow.outbox.release([m.id for m in remaining], self.worker_id)


def _log_attempt(
    message: OutboundMessage, status: str, result: AttemptResult, seconds: float, worker_id: str
) -> None:
    """One line per delivery attempt: ids, status, attempt and duration, never the content."""
    logger.info(
        "message %s to endpoint %s: %s %s (attempt %d)",
        message.id,
        message.endpoint_id,
        status,
        result.status_code or "-",
        message.attempts + 1,
        extra={
            "event": "delivery",
            "message_id": message.id,
            "endpoint_id": message.endpoint_id,
            "status": status,
            "status_code": result.status_code,
            "attempt": message.attempts + 1,
            "duration_ms": round(seconds * 1000, 1),
            "request_id": message.request_id,
            "correlation_id": message.correlation_id,
            "worker_id": worker_id,
        },
    )
