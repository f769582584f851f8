"""Console sign-in with OpenID Connect against a real provider (panva/oidc-provider)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
import requests
import sqlalchemy as sa

from adapter.settings import Settings
from adapter.store import Store
from adapter.store.tables import resource
from tests.support.oidc_provider import (
    CLIENT_ID,
    CLIENT_SECRET,
    ROLES,
    oidc_provider,
    sign_in_at_provider,
)
from tests.support.served import Served, free_port, served_adapter


def _oidc_settings(issuer: str) -> dict[str, str]:
    return {
        "LD_ADAPTER_WORKERS": "1",
        "LD_ADAPTER_OIDC_ISSUER": issuer,
        "LD_ADAPTER_OIDC_CLIENT_ID": CLIENT_ID,
        "LD_ADAPTER_OIDC_CLIENT_SECRET": CLIENT_SECRET,
        "LD_ADAPTER_OIDC_ROLES": ROLES,
    }


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """An adapter whose console signs in at a real provider that knows it as a client."""
    home = tmp_path_factory.mktemp("oidc")
    port = free_port()
    callback = f"http://127.0.0.1:{port}/console/oidc/callback"
    with (
        oidc_provider(home, callback) as provider,
        served_adapter(home, _oidc_settings(provider.issuer), port=port) as served,
    ):
        yield served


def _sign_in(served: Served, user: str) -> tuple[requests.Session, requests.Response]:
    browser = requests.Session()
    start = f"{served.base}/console/oidc/login?next=/console/messages"
    return browser, sign_in_at_provider(browser, start, user)


def _audits(served: Served) -> list[tuple[str, str]]:
    """(outcome, requestor) of every AuditEvent, oldest first (here: the sign-ins)."""
    store = Store.from_url(Settings(home=Path(served.env["LD_ADAPTER_HOME"])).database_url)
    with store.engine.connect() as connection:
        rows = connection.execute(
            sa.select(resource.c.content)
            .where(resource.c.resource_type == "AuditEvent")
            .order_by(resource.c.last_updated)
        ).scalars()
        events = [orjson.loads(content) for content in rows]
    store.dispose()
    requestors = [event["agent"][0]["who"] for event in events]
    return [
        (event["outcome"], who.get("identifier", {}).get("value") or who.get("display"))
        for event, who in zip(events, requestors, strict=True)
    ]


def test_an_operator_signs_in_and_lands_where_they_were_going(console: Served) -> None:
    browser, page = _sign_in(console, "olive")
    assert page.status_code == 200, page.text
    assert page.url == f"{console.base}/console/messages"
    assert "Olive Operator (operator)" in page.text
    assert ("0", "console operator olive") in _audits(console)
    assert browser.get(f"{console.base}/console/", timeout=10).url == f"{console.base}/console/"


def test_an_auditor_claim_makes_an_auditor(console: Served) -> None:
    _, page = _sign_in(console, "audrey")
    assert "Audrey Auditor (auditor)" in page.text


def test_a_user_with_no_mapped_role_is_refused_and_the_refusal_audited(console: Served) -> None:
    refusals_before = _audits(console).count(("4", "unauthenticated client"))
    browser, page = _sign_in(console, "nobody")
    assert page.status_code == 403
    assert "no role in this console" in page.text
    assert _audits(console).count(("4", "unauthenticated client")) == refusals_before + 1
    after = browser.get(f"{console.base}/console/", timeout=10)
    assert "/console/sign-in" in after.url  # not signed in


def test_a_callback_with_a_state_it_did_not_start_is_refused(console: Served) -> None:
    browser = requests.Session()
    browser.get(f"{console.base}/console/oidc/login", allow_redirects=False, timeout=10)
    forged = browser.get(
        f"{console.base}/console/oidc/callback", params={"code": "x", "state": "forged"}, timeout=10
    )
    assert forged.status_code == 403
    assert "/console/sign-in" in browser.get(f"{console.base}/console/", timeout=10).url


def test_the_sign_in_page_offers_the_provider(console: Served) -> None:
    page = requests.get(f"{console.base}/console/sign-in", timeout=10)
    assert "/console/oidc/login" in page.text


def test_an_id_token_from_another_issuer_is_refused(tmp_path: Path) -> None:
    port = free_port()
    callback = f"http://127.0.0.1:{port}/console/oidc/callback"
    with oidc_provider(tmp_path, callback) as provider:
        # The same provider under another name: its tokens say iss=http://127.0.0.1:<port>.
        elsewhere = provider.issuer.replace("127.0.0.1", "localhost")
        with served_adapter(tmp_path, _oidc_settings(elsewhere), port=port) as served:
            browser, page = _sign_in(served, "olive")
            assert page.status_code == 403, page.text
            assert "/console/sign-in" in browser.get(f"{served.base}/console/", timeout=10).url
            assert "InvalidClaimError" in served.log.read_text()  # the issuer, not something else
