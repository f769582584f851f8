"""Messages received on $process-message, as handlers see them (interface of common9.md).

Helper R's branch (receiver) owns this module; this copy holds only the shared shapes so the
servicerequest-response handler can be built and tested before the branches merge.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from adapter.exchange.partners import Partner
from adapter.settings import Settings
from adapter.store import UnitOfWork


@dataclass(frozen=True)
class Inbound:
    """One received message: the Bundle, its MessageHeader, its ids and the partner it is from."""

    bundle: dict
    header: dict
    request_id: str
    correlation_id: str
    partner: Partner
    received_at: datetime


@dataclass(frozen=True)
class Handled:
    """What a handler did: the HTTP status and what it created or changed."""

    status: int
    referral_id: str | None = None
    onward_referral_id: str | None = None


Handler = Callable[[UnitOfWork, Settings, list[dict], Inbound], Handled]
