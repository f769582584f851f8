"""Doubles for delivery tests: a transport that answers from a script, and a clock tests move."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from adapter.exchange.model import Delivered, DeliveryResult, OutboundMessage


class ScriptedTransport:
    """Answers each send with the next scripted result (then Delivered); keeps what it was sent."""

    def __init__(
        self, *results: DeliveryResult | Exception, on_send: Callable[[], None] | None = None
    ):
        self.results = list(results)
        self.sent: list[tuple[OutboundMessage, dict]] = []
        self.on_send = on_send

    def send(self, message: OutboundMessage, endpoint: dict) -> DeliveryResult:
        self.sent.append((message, endpoint))
        if self.on_send:
            self.on_send()
        result = self.results.pop(0) if self.results else Delivered(200)
        if isinstance(result, Exception):
            raise result
        return result

    @property
    def sent_ids(self) -> list[str]:
        return [message.id for message, _ in self.sent]


class Clock:
    """A clock that stands still until moved."""

    def __init__(self, now: datetime = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now
