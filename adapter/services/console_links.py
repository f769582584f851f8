"""One-time console sign-in links for development: `ld-adapter console-link` makes one.

Only the SHA-256 of the token is stored; using the link burns it, so a second use is refused.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from adapter.errors import Forbidden
from adapter.settings import Settings
from adapter.store import Store
from adapter.store.console import LinkHolder

ROLES = ("operator", "auditor")


def create_link(store: Store, settings: Settings, role: str, name: str) -> str:
    """A URL that signs its first user in as `name` with `role`, within the link lifetime."""
    if settings.environment == "production":
        raise Forbidden(
            "One-time sign-in links are for development; in production sign in with OpenID "
            "Connect (LD_ADAPTER_ENVIRONMENT=production)."
        )
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    token = secrets.token_urlsafe(32)
    expires = datetime.now(UTC) + timedelta(seconds=settings.console_link_seconds)
    subject = f"dev-link:{name}"
    with store.unit_of_work() as uow:
        uow.console.add_link(_hash(token), LinkHolder(subject, name, role), expires)
    return f"{settings.base_url}/console/link/{token}"


def use_link(store: Store, token: str) -> LinkHolder | None:
    """Whom the link was for, burning it; None if unknown, used or expired."""
    if not token or len(token) > 100:
        return None
    with store.unit_of_work() as uow:
        return uow.console.use_link(_hash(token), datetime.now(UTC))


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
