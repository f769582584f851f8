"""The shapes the outbox, the worker and the transports share."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

# Delivery states of one outbound message. queued/retrying wait for a worker; the rest are final
# until an operator replays a dead letter.
QUEUED = "queued"
RETRYING = "retrying"
DELIVERED = "delivered"
DEAD_LETTER = "dead-letter"
CANCELLED = "cancelled"
PENDING_STATES = (QUEUED, RETRYING)
FINAL_STATES = (DELIVERED, DEAD_LETTER, CANCELLED)
# The kind of an onward referral's own message: the one its Task follows and consent guards.
ONWARD_REFERRAL = "onward-referral"


@dataclass(frozen=True)
class OutboundMessage:
    """One message in the outbox: a FHIR message Bundle for one partner Endpoint."""

    id: str  # the outbox row id; also Bundle.id of `body`
    request_id: str  # X-Request-Id: unique per message, the same on every retry
    correlation_id: str  # X-Correlation-Id: the same across the conversation
    endpoint_id: str  # the partner's Endpoint resource id
    transport: str  # "fhir-messaging" or "mesh" (adapter.exchange.partners.transport_of)
    ordering_key: str  # messages with one key go in `sequence` order (partner + person)
    # "onward-referral" | "cancellation" | "response" (answering a received referral) | "refusal"
    kind: str
    body: dict  # the message Bundle, frozen when queued
    status: str = QUEUED
    sequence: int = 0  # assigned by the store; orders messages sharing an ordering_key
    attempts: int = 0
    created_at: datetime | None = None
    next_attempt_at: datetime | None = None
    expires_at: datetime | None = None  # after this, no more retries: dead-letter
    delivered_at: datetime | None = None
    last_attempt_at: datetime | None = None
    last_status_code: int | None = None
    last_error: str | None = None  # why the last attempt failed, no patient data
    partner_outcome: dict | None = None  # the partner's OperationOutcome, kept on dead-letter
    onward_referral_id: str | None = None
    lease_owner: str | None = None
    lease_expires_at: datetime | None = None
    headers: dict = field(default_factory=dict)  # NHSD-* headers built when queued


@dataclass(frozen=True)
class Delivered:
    """The partner accepted the message (2xx, or 409 duplicate: it already had it)."""

    status_code: int
    response: dict | None = None  # the partner's answer, if it sent a FHIR resource


@dataclass(frozen=True)
class TryAgain:
    """A transient failure: 429, 5xx, timeout or connection error; retry after backoff."""

    reason: str  # short, no patient data: "HTTP 503", "timed out after 10 s", "connection refused"
    status_code: int | None = None
    retry_after: float | None = None  # seconds the partner asked us to wait (Retry-After)


@dataclass(frozen=True)
class Rejected:
    """A permanent failure: the partner refused the message (4xx); retrying will not help."""

    reason: str
    status_code: int | None = None
    outcome: dict | None = None  # the partner's OperationOutcome


@dataclass(frozen=True)
class Withdrawn:
    """Never to be sent: found just before sending (referral cancelled, consent withdrawn).

    The message is cancelled. The worker decides this, never a transport.
    """

    reason: str  # no patient data
    status_code: None = None  # nothing was sent, so no HTTP status


DeliveryResult = Delivered | TryAgain | Rejected  # what a transport answers
AttemptResult = DeliveryResult | Withdrawn  # what the worker records for a claimed message


class Transport(Protocol):
    """Sends one message to one partner Endpoint; never raises for a partner's failure."""

    def send(self, message: OutboundMessage, endpoint: dict) -> DeliveryResult:
        """Deliver `message` to the partner at `endpoint` (a FHIR Endpoint resource)."""
        ...
