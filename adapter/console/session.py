"""The console's signed-in user: a signed cookie session with a role, ended after a fixed time.

The cookie also holds a random session id whose hash the database keeps (console_session):
signing out ends it there, so a copied cookie is refused afterwards, not only deleted here.

Sign-in (a one-time development link here, OpenID Connect elsewhere) ends in `sign_in`, which
starts a fresh session so nothing set before signing in (a fixation attempt) survives it.
The API never reads this cookie: /api and /fhir take bearer tokens only.

OpenID Connect plugs in by: routes that end in `sign_in(subject, name, role)` (on the console
blueprint, or marked `adapter.api.http.public` if elsewhere, and listed in api/audit.py
INTERACTIONS), and `app.config["CONSOLE_OIDC_LOGIN_ENDPOINT"]` naming the endpoint the sign-in
page's "Sign in with OpenID Connect" button opens (it is shown only when that is set).
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, abort, g, session

from adapter.auth import ensure_dev_key
from adapter.settings import Settings

OPERATOR = "operator"
AUDITOR = "auditor"
ROLES = (OPERATOR, AUDITOR)
COOKIE_NAME = "ld_console"
_KEY = "console_user"

View = TypeVar("View", bound=Callable[..., Any])


@dataclass(frozen=True)
class ConsoleUser:
    """Who is signed in to the console, as what, since when (seconds since the epoch)."""

    subject: str
    name: str
    role: str
    signed_in_at: float

    @property
    def is_auditor(self) -> bool:
        """Auditors may reveal a person's details and read the audit trail."""
        return self.role == AUDITOR


def configure_sessions(app: Flask, settings: Settings) -> None:
    """Sign the console's cookie with the configured key; Secure, HttpOnly, SameSite=Lax."""
    app.secret_key = console_secret_key(settings)
    app.config.update(
        SESSION_COOKIE_NAME=COOKIE_NAME,
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=settings.console_session_seconds,
        WTF_CSRF_TIME_LIMIT=settings.console_session_seconds,
    )


def console_secret_key(settings: Settings) -> str:
    """The configured key; in development one generated (owner-only) under the home directory."""
    if settings.console_secret_key:  # from the variable or its file, read at start
        return settings.console_secret_key
    return ensure_dev_key(settings.home / "console-secret-key").decode()


def sign_in(subject: str, name: str, role: str) -> None:
    """Start a fresh session for this user (any earlier session content is dropped)."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    session.clear()
    session.permanent = True
    session_id = secrets.token_urlsafe(24)  # also a new cookie value for the same user and second
    now = datetime.now(UTC)
    expires = now + timedelta(seconds=_store_settings()[1].console_session_seconds)
    with _store_settings()[0].unit_of_work() as uow:
        uow.console.add_session(_hash(session_id), subject, now, expires)
    session[_KEY] = {
        "subject": subject,
        "name": name,
        "role": role,
        "signed_in_at": time.time(),
        "session_id": session_id,
    }
    g.console_user = current_user()  # this request's audit names who signed in


def sign_out() -> None:
    """End the session, here and in the database (a copy of the cookie is refused from now on)."""
    data = session.get(_KEY)
    session_id = data.get("session_id") if isinstance(data, dict) else None
    if isinstance(session_id, str):
        with _store_settings()[0].unit_of_work() as uow:
            uow.console.end_session(_hash(session_id), datetime.now(UTC))
    session.clear()


def current_user(lifetime: float | None = None) -> ConsoleUser | None:
    """The signed-in user, or None (never signed in, or signed in longer ago than `lifetime`)."""
    data = session.get(_KEY)
    if not isinstance(data, dict) or data.get("role") not in ROLES:
        return None
    user = ConsoleUser(
        str(data.get("subject")),
        str(data.get("name")),
        str(data["role"]),
        float(data.get("signed_in_at", 0)),
    )
    if lifetime is not None and time.time() - user.signed_in_at > lifetime:
        session.clear()
        return None
    if not _active(data.get("session_id")):
        session.clear()  # signed out elsewhere (or a cookie from before sessions were kept)
        return None
    return user


def _active(session_id: object) -> bool:
    if not isinstance(session_id, str) or len(session_id) > 64:
        return False
    with _store_settings()[0].unit_of_work(read_only=True) as uow:
        return uow.console.session_active(_hash(session_id), datetime.now(UTC))


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def _store_settings() -> tuple[Any, Settings]:
    from adapter.api.context import app_services  # at call time: the app is built by then

    services = app_services()
    return services.store, services.settings


def require_role(*roles: str) -> Callable[[View], View]:
    """Let only users with one of `roles` in: 403 for others (sign-in is the blueprint's job)."""

    def decorate(view: View) -> View:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            user = g.get("console_user") or current_user()
            if user is None or user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return guarded  # type: ignore[return-value]

    return decorate
