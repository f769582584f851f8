"""Signing a test client in to the console with a one-time link, and the CSRF token of a page."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from flask.testing import FlaskClient

from adapter.services.console_links import create_link
from adapter.settings import Settings
from adapter.store import Store

_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def link_path(store: Store, settings: Settings, role: str, name: str = "Sam Operator") -> str:
    """The path of a new one-time sign-in link."""
    return urlsplit(create_link(store, settings, role, name)).path


def csrf_token(client: FlaskClient, path: str) -> str:
    """The CSRF token in the form of the page at `path`."""
    page = client.get(path)
    found = _TOKEN.search(page.get_data(as_text=True))
    assert found, f"no form with a CSRF token at {path} ({page.status_code})"
    return found.group(1)


def sign_in(client: FlaskClient, store: Store, settings: Settings, role: str = "operator") -> None:
    """Sign the client in through a one-time link, as a person would."""
    path = link_path(store, settings, role)
    response = client.post(path, data={"csrf_token": csrf_token(client, path)})
    assert response.status_code == 302, response.get_data(as_text=True)


def post_form(client: FlaskClient, page: str, action: str, **data: str):  # type: ignore[no-untyped-def]
    """Post a form found on `page` to `action`, with that page's CSRF token."""
    return client.post(action, data={"csrf_token": csrf_token(client, page), **data})
