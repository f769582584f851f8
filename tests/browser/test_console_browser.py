"""An operator, in Chromium, finds the failing partner, replays what it refused and sees it arrive.

The adapter runs as users run it (`ld-adapter serve`, in-process delivery); the partner is a real
HTTP server on 127.0.0.1 that refuses the first message (422) and accepts the replay.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests

from tests.support.browser import chromium, screenshot
from tests.support.partner_server import PartnerServer, operation_outcome
from tests.support.partners import partners_at
from tests.support.served import Served, free_port, served_adapter

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
REFERRAL = (
    ROOT / "fixtures" / "native" / "referrals" / "voluntary-attendance-hereford-out-of-area.json"
)
BROKEN = json.dumps(
    {"resourceType": "Patient", "gender": "unknown-gender", "birthDate": "1990-13-01"}, indent=1
)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Served, PartnerServer]]:
    """The adapter with the local partners pointed at a test partner that is up."""
    partner = PartnerServer(port=free_port()).start()
    settings = {
        "LD_ADAPTER_PARTNERS": str(partners_at(partner.base, tmp_path)),
        "LD_ADAPTER_WORKERS": "1",
        "LD_ADAPTER_DELIVERY_POLL_INTERVAL": "0.2",
    }
    home = tmp_path / "home"
    home.mkdir()
    try:
        with served_adapter(home, settings) as adapter:
            yield adapter, partner
    finally:
        partner.stop()


def test_an_operator_replays_a_refused_message_and_sees_it_delivered(served, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By

    adapter, partner = served
    refusal = operation_outcome("invalid", "The receiving system could not match the person")
    partner.fail(422, times=1, outcome=refusal)
    message_url = _refer_onward(adapter)
    _wait(
        lambda: (
            requests.get(message_url, headers=_auth(adapter), timeout=10).json()["delivery"][
                "status"
            ]
            == "dead-letter"
        )
    )

    with chromium() as browser:
        browser.get(_console_link(adapter, "operator"))
        browser.find_element(By.ID, "sign-in").click()
        row = browser.find_element(By.CSS_SELECTOR, "#partners-overview tbody tr")
        assert "needs a look" in row.text  # the failing partner comes first
        screenshot(browser, "console-overview", tmp_path)
        row.find_element(By.PARTIAL_LINK_TEXT, "1").click()  # its dead letters
        browser.find_element(By.CSS_SELECTOR, "#messages tbody tr a").click()
        assert browser.find_element(By.ID, "message-status").text == "dead-letter"
        assert "422" in browser.find_element(By.ID, "attempts").text
        screenshot(browser, "console-message", tmp_path)

        browser.find_element(By.ID, "reveal").click()  # an operator may not
        assert "Not allowed" in browser.find_element(By.TAG_NAME, "h1").text
        browser.back()

        browser.find_element(By.ID, "replay").click()
        browser.find_element(By.ID, "confirm").click()
        assert "queued again" in browser.find_element(By.CSS_SELECTOR, "[role=status]").text

        def delivered() -> bool:
            browser.refresh()
            return browser.find_element(By.ID, "message-status").text == "delivered"

        _wait(delivered)
    assert len(partner.accepted_request_ids()) == 1


def test_the_validator_shows_a_broken_payload_s_issues_on_its_lines(served, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By

    adapter, _partner = served
    with chromium() as browser:
        browser.get(_console_link(adapter, "auditor"))
        browser.find_element(By.ID, "sign-in").click()
        browser.find_element(By.LINK_TEXT, "Validator").click()
        browser.find_element(By.ID, "payload").send_keys(BROKEN)
        browser.find_element(By.ID, "check").click()
        issues = browser.find_element(By.ID, "issues").text
        assert "Patient.birthDate" in issues and "Patient.gender" in issues
        marked = browser.find_elements(By.CSS_SELECTOR, "#payload-lines li.marked")
        assert sorted(line.text.split(":")[0].strip() for line in marked) == [
            '"birthDate"',
            '"gender"',
        ]
        screenshot(browser, "console-validator", tmp_path)


def _auth(adapter: Served) -> dict[str, str]:
    return {"Authorization": f"Bearer {adapter.token()}"}


def _refer_onward(adapter: Served) -> str:
    """Make a referral and refer it on to the BSMHFT home-area team; the onward referral's URL."""
    session = requests.Session()
    session.headers.update(_auth(adapter))
    referral = session.post(
        f"{adapter.base}/api/referrals", json=json.loads(REFERRAL.read_text()), timeout=10
    )
    assert referral.status_code == 201, referral.text
    onward = session.post(
        f"{adapter.base}/api/referrals/{referral.json()['id']}/onward-referrals",
        json={
            "pathway": "home-area-ld",
            "to": "bsmhft-ld-home-area",
            "reason": "Lives in Birmingham; agreed to be seen by the home-area team.",
            "referred_by": {"name": "Alex Morgan", "role": "L&D practitioner (RMN)"},
        },
        timeout=10,
    )
    assert onward.status_code == 201, onward.text
    return f"{adapter.base}/api/onward-referrals/{onward.json()['id']}"


def _console_link(adapter: Served, role: str) -> str:
    """A one-time sign-in link from `ld-adapter console-link`, as a developer gets one."""
    command = [
        sys.executable,
        "-m",
        "adapter.cli",
        "console-link",
        "--role",
        role,
        "--name",
        f"Sam {role}",
    ]
    made = subprocess.run(command, env=adapter.env, check=True, capture_output=True, text=True)
    return made.stdout.strip()


def _wait(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError("the condition did not come true in time")
