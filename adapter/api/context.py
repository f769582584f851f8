"""Access to what create_app wired, from inside a request."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from adapter.auth import TokenVerifier
from adapter.settings import Settings
from adapter.store import Store

EXTENSION_KEY = "ld_adapter"


@dataclass(frozen=True)
class AppServices:
    """The adapter's collaborators for one app instance."""

    settings: Settings
    store: Store
    verifier: TokenVerifier
    directory: list[dict]  # the service directory as loaded at start
    # OAuth clients bound to a partner (may call $process-message only), as loaded at start.
    partner_clients: frozenset[str] = frozenset()


def app_services() -> AppServices:
    """The collaborators of the current app."""
    services: AppServices = current_app.extensions[EXTENSION_KEY]
    return services


def current_store() -> Store:
    """The current app's store."""
    return app_services().store


def current_settings() -> Settings:
    """The current app's settings."""
    return app_services().settings
