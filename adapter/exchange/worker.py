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
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta

from adapter.exchange.model import (
    DeliveryResult,
    OutboundMessage,
    Rejected,
    Transport,
    TryAgain,
)
from adapter.exchange.outcomes import attempt_event, patient_of_message, record_result
from adapter.services import audit
from adapter.settings import Settings
from adapter.store import Store

logger = logging.getLogger(__name__)
Clock = Callable[[], datetime]
_MAX_DOUBLINGS = 60  # 2**60 × base is past any cap; more would overflow a float
# A lease is renewed when less than this many attempts' time is left of it.
_RENEW_WITHIN_ATTEMPTS = 2
# Set when this process queues a message or is told to stop, so an idle in-process loop acts at
# once instead of at its next poll (workers elsewhere find the message when they next poll).
_NUDGED = threading.Event()


def wake() -> None:
    """Tell this process's delivery loop, if it runs one, that there is something to do."""
    _NUDGED.set()


def default_transports(settings: Settings) -> dict[str, Transport]:
    """The transports a worker uses unless given others: FHIR messaging over HTTP."""
    from adapter.exchange.http_transport import FhirMessagingTransport

    return {"fhir-messaging": FhirMessagingTransport(settings)}


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
                handled = self.run_once()
            except Exception as error:  # e.g. the database is down: wait, then try again
                logger.warning("delivery worker %s: %s", self.worker_id, type(error).__name__)
                handled = 0
            if not handled and not stop.is_set():
                _NUDGED.wait(self.settings.delivery_poll_interval)
                _NUDGED.clear()
        logger.info("delivery worker %s stopped", self.worker_id)

    def run_once(self) -> int:
        """Claim one batch of due messages and deliver them; returns how many were claimed."""
        now = self._clock()
        lease_until = now + timedelta(seconds=self.settings.delivery_lease_seconds)
        with self.store.unit_of_work() as uow:
            batch = uow.outbox.claim(self.worker_id, now, lease_until, self.settings.delivery_batch)
        endpoints: dict[str, dict | None] = {}
        held = {m.id for m in batch}
        for index, message in enumerate(batch):
            if self._stop.is_set():
                self._release(batch[index:])
                break
            lease_until, held = self._keep_lease(batch[index:], lease_until, held)
            if message.id in held:  # else its lease ran out: another worker may have it now
                self.deliver(message, endpoints)
        return len(batch)

    def deliver(self, message: OutboundMessage, endpoints: dict[str, dict | None]) -> None:
        """Send one claimed message (unless its time to live is over) and record the result."""
        attempted = self._clock() < message.expires_at if message.expires_at else True
        if attempted:
            result = self._send(message, endpoints)
        else:
            result = TryAgain("time to live ended before delivery")
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
        logger.info(
            "message %s to endpoint %s: %s %s (attempt %d)",
            message.id,
            message.endpoint_id,
            status,
            result.status_code or "-",
            message.attempts + 1,
        )

    def retry_delay(self, message: OutboundMessage, result: DeliveryResult) -> float:
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

    def _keep_lease(
        self, remaining: list[OutboundMessage], lease_until: datetime, held: set[str]
    ) -> tuple[datetime, set[str]]:
        """Renew the leases of the messages still to send when too little of them is left."""
        margin = timedelta(seconds=_RENEW_WITHIN_ATTEMPTS * self.settings.delivery_timeout)
        now = self._clock()
        if now + margin < lease_until:
            return lease_until, held
        renewed = now + timedelta(seconds=self.settings.delivery_lease_seconds)
        with self.store.unit_of_work() as uow:
            kept = uow.outbox.renew([m.id for m in remaining], self.worker_id, now, renewed)
        return renewed, set(kept)

    def _release(self, remaining: list[OutboundMessage]) -> None:
        with self.store.unit_of_work() as uow:
            uow.outbox.release([m.id for m in remaining], self.worker_id)
