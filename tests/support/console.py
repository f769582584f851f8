"""Signing a test client in to the console with a one-time link, and the CSRF token of a page."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from flask.testing import FlaskClient

from adapter.services.console_links import create_link
from adapter.settings import Settings
from adapter.store import Store

_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
_LINK_TOKEN = re.compile(r'name="token" value="([^"]+)"')


def link_path(store: Store, settings: Settings, role: str, name: str = "Sam Operator") -> str:
    """The path and query of a new one-time sign-in link."""
    url = urlsplit(create_link(store, settings, role, name))
    return f"{url.path}?{url.query}"


def use_link(client: FlaskClient, path: str, csrf: str | None = None):  # type: ignore[no-untyped-def]
    """Press the link page's Sign in button (with `csrf` instead of the page's token if given)."""
    page = client.get(path).get_data(as_text=True)
    found = _LINK_TOKEN.search(page)
    assert found, f"no sign-in form at {path}"
    token = _TOKEN.search(page)
    data = {"token": found.group(1), "csrf_token": csrf if csrf is not None else token.group(1)}  # type: ignore[union-attr]
    return client.post("/console/link", data=data)


def csrf_token(client: FlaskClient, path: str) -> str:
    """The CSRF token in the form of the page at `path`."""
    page = client.get(path)
    found = _TOKEN.search(page.get_data(as_text=True))
    assert found, f"no form with a CSRF token at {path} ({page.status_code})"
    return found.group(1)


def sign_in(client: FlaskClient, store: Store, settings: Settings, role: str = "operator") -> None:
    """Sign the client in through a one-time link, as a person would."""
    response = use_link(client, link_path(store, settings, role))
    assert response.status_code == 302, response.get_data(as_text=True)


def post_form(client: FlaskClient, page: str, action: str, **data: str):  # type: ignore[no-untyped-def]
    """Post a form found on `page` to `action`, with that page's CSRF token."""
    return client.post(action, data={"csrf_token": csrf_token(client, page), **data})
