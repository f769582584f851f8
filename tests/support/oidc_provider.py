"""A real OpenID provider (panva/oidc-provider under node, tests/oidc) on 127.0.0.1 for tests.

Its users (tests/oidc/provider.mjs): `olive` (roles ld-operators), `audrey` (ld-auditors, staff)
and `nobody` (staff). They sign in on the provider's own development pages with any password.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin

import requests

from tests.support.served import free_port

PROVIDER_DIR = Path(__file__).resolve().parent.parent / "oidc"
INSTALL_HINT = "oidc-provider is not installed: run `make setup` (npm ci --prefix tests/oidc)"
CLIENT_ID, CLIENT_SECRET = "ld-adapter-console", "a-test-only-client-secret"
ROLES = "ld-operators=operator,ld-auditors=auditor"


@dataclass(frozen=True)
class Provider:
    """A running provider: its issuer URL and log."""

    issuer: str
    log: Path


@contextmanager
def oidc_provider(log_dir: Path, redirect_uri: str) -> Iterator[Provider]:
    """Run the provider with one confidential client redirecting to `redirect_uri`."""
    assert (PROVIDER_DIR / "node_modules" / "oidc-provider").is_dir(), INSTALL_HINT
    port = free_port()
    log = log_dir / "oidc-provider.log"
    command = ["node", "provider.mjs", str(port), CLIENT_ID, CLIENT_SECRET, redirect_uri]
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=PROVIDER_DIR, stdout=out, stderr=out)
    provider = Provider(f"http://127.0.0.1:{port}", log)
    try:
        _wait_until_serving(provider, process)
        yield provider
    finally:
        process.terminate()
        process.wait(timeout=10)


def _wait_until_serving(provider: Provider, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 20
    while True:
        try:
            discovery = f"{provider.issuer}/.well-known/openid-configuration"
            if requests.get(discovery, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        assert process.poll() is None, provider.log.read_text()
        assert time.monotonic() < deadline, provider.log.read_text()
        time.sleep(0.1)


def sign_in_at_provider(browser: requests.Session, start: str, user: str) -> requests.Response:
    """Open `start` (the console's sign-in), sign in as `user` and consent; the last answer."""
    page = browser.get(start, timeout=10)
    for prompt, fields in (("login", {"login": user, "password": "any"}), ("consent", {})):
        assert page.status_code == 200, page.text
        assert f'name="prompt" value="{prompt}"' in page.text, page.text
        page = browser.post(
            urljoin(page.url, _form_action(page.text)),
            data={"prompt": prompt, **fields},
            timeout=10,
        )
    return page


def _form_action(html: str) -> str:
    """The action of the page's first form (the provider's own login and consent pages)."""
    start = html.index('action="') + len('action="')
    return html[start : html.index('"', start)]
