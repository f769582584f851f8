"""A practitioner's onward referral, as the README makes it, reaches a partner through `serve`.

The adapter runs as users run it (gunicorn, in-process delivery), the partner is a real HTTP
server on 127.0.0.1 that is down when the referral is made and comes up later.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import requests

from adapter.conformance import has_errors, validate
from tests.support.partner_server import PartnerServer
from tests.support.partners import partners_at
from tests.support.served import free_port, served_adapter

ROOT = Path(__file__).resolve().parents[2]
REFERRAL = (
    ROOT / "fixtures" / "native" / "referrals" / "voluntary-attendance-hereford-out-of-area.json"
)


def test_an_onward_referral_made_while_the_partner_is_down_arrives_once_it_is_up(
    tmp_path: Path, fhirjs
) -> None:  # type: ignore[no-untyped-def]
    partner = PartnerServer(port=free_port())  # not started: connections are refused
    partners = partners_at(partner.base, tmp_path)
    settings = {
        "LD_ADAPTER_PARTNERS": str(partners),
        "LD_ADAPTER_WORKERS": "1",
        "LD_ADAPTER_DELIVERY_BACKOFF_BASE": "0.2",
        "LD_ADAPTER_DELIVERY_BACKOFF_MAX": "0.5",
        "LD_ADAPTER_DELIVERY_POLL_INTERVAL": "0.2",
    }
    home = tmp_path / "home"
    home.mkdir()
    with served_adapter(home, settings) as served:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {served.token()}"
        referral = session.post(
            f"{served.base}/api/referrals", json=json.loads(REFERRAL.read_text()), timeout=10
        ).json()
        onward = session.post(
            f"{served.base}/api/referrals/{referral['id']}/onward-referrals",
            json={
                "pathway": "home-area-ld",
                "to": "bsmhft-ld-home-area",
                "reason": "Lives in Birmingham; agreed to be seen by the home-area team.",
                "referred_by": {"name": "Alex Morgan", "role": "L&D practitioner (RMN)"},
            },
            timeout=10,
        )
        assert onward.status_code == 201, onward.text
        url = f"{served.base}/api/onward-referrals/{onward.json()['id']}"
        _wait(lambda: session.get(url, timeout=10).json()["delivery"]["status"] == "retrying")
        failing = session.get(url, timeout=10).json()["delivery"]
        assert "refused" in failing["last_error"] or "connect" in failing["last_error"]

        partner.start()
        try:
            arrived = partner.wait_for(1, timeout=30)[0]
            _wait(lambda: session.get(url, timeout=10).json()["delivery"]["status"] == "delivered")
        finally:
            partner.stop()
    assert partner.accepted_request_ids() == {arrived.request_id: 1}
    assert not has_errors(validate(arrived.bundle))
    assert fhirjs.validate(arrived.bundle) == []
    header = arrived.bundle["entry"][0]["resource"]
    assert header["destination"][0]["endpoint"] == partner.base


def _wait(condition, timeout: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def test_serve_sends_a_new_onward_referral_at_once_not_at_its_next_poll(tmp_path: Path) -> None:
    with PartnerServer() as partner:
        partners = partners_at(partner.base, tmp_path)
        settings = {
            "LD_ADAPTER_PARTNERS": str(partners),
            "LD_ADAPTER_WORKERS": "1",
            "LD_ADAPTER_DELIVERY_POLL_INTERVAL": "600",  # only the nudge can make it go in time
        }
        with served_adapter(tmp_path, settings) as served:
            session = requests.Session()
            session.headers["Authorization"] = f"Bearer {served.token()}"
            referral = session.post(
                f"{served.base}/api/referrals", json=json.loads(REFERRAL.read_text()), timeout=10
            ).json()
            time.sleep(1.0)  # the loop has polled once, found nothing, and sleeps for 600 s
            posted = session.post(
                f"{served.base}/api/referrals/{referral['id']}/onward-referrals",
                json={
                    "pathway": "home-area-ld",
                    "to": "bsmhft-ld-home-area",
                    "referred_by": {"name": "Alex Morgan"},
                },
                timeout=10,
            )
            assert posted.status_code == 201, posted.text
            partner.wait_for(1, timeout=5)
