"""Received messages: what a handler is given and returns (helper R's module; this is its
interface from the design, so the referral handlers can be written and tested meanwhile)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from adapter.exchange.partners import Partner
from adapter.settings import Settings
from adapter.store import UnitOfWork


@dataclass(frozen=True)
class Inbound:
    """One received message: the Bundle, its MessageHeader, its ids and the partner it came from."""

    bundle: dict
    header: dict
    request_id: str
    correlation_id: str
    partner: Partner
    received_at: datetime


@dataclass(frozen=True)
class Handled:
    """What a handler did: the status to answer with and what it created or changed."""

    status: int
    referral_id: str | None = None
    onward_referral_id: str | None = None


Handler = Callable[[UnitOfWork, Settings, list[dict], Inbound], Handled]
