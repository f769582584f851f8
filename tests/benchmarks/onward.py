"""Onward referrals: what one costs to make, and how long until the partner has it.

`POST /api/referrals/{id}/onward-referrals` against a real server (gunicorn, one worker, SQLite,
in-process delivery) with the partner a real HTTP server in this process: the request checks
consent, makes the ServiceRequest, Task and minimised message, validates them and writes them with
the outbox row in one transaction; the in-process loop then sends the message.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import orjson
import requests

from tests.benchmarks.intake import other_core
from tests.support.partner_server import PartnerServer
from tests.support.partners import partners_at
from tests.support.served import served_adapter

ROOT = Path(__file__).resolve().parents[2]
REFERRAL_FILE = ROOT / "fixtures" / "native" / "referrals" / "adult-custody-telford.json"
ONWARD = {
    "pathway": "crisis-team",
    "to": "mpft-crisis-resolution-home-treatment",
    "urgency": "urgent",
    "reason": "Low mood with thoughts of self-harm; agreed to be seen by the crisis team.",
    "referred_by": {"name": "Alex Morgan", "role": "L&D practitioner (RMN)"},
}
Median = Callable[[Callable[[], object], int], float]


def onward_section(median: Median) -> list[str]:
    """POST an onward referral: latency, throughput, and time until the partner has it."""
    payload = orjson.loads(REFERRAL_FILE.read_bytes())
    with PartnerServer() as partner, tempfile.TemporaryDirectory() as home:
        partners = partners_at(partner.base, Path(home))
        settings = {"LD_ADAPTER_WORKERS": "1", "LD_ADAPTER_PARTNERS": str(partners)}
        with served_adapter(Path(home), settings, preexec_fn=other_core) as server:
            session = requests.Session()
            session.headers["Authorization"] = f"Bearer {server.token()}"
            referral = session.post(f"{server.base}/api/referrals", json=payload, timeout=10)
            url = f"{server.base}/api/referrals/{referral.json()['id']}/onward-referrals"

            def post_one() -> None:
                response = session.post(url, json=ONWARD, timeout=10)
                assert response.status_code == 201, response.text

            latency = median(post_one, 300)
            started = time.perf_counter()
            for _ in range(200):
                post_one()
            throughput = 200 / (time.perf_counter() - started)
            arrival = median(lambda: _until_received(partner, post_one), 50)
    return [
        "## Onward referral end to end (SQLite, in-process delivery)",
        "",
        "gunicorn with one worker on one core, client and loopback partner on the other; sequential "
        "`POST /api/referrals/{id}/onward-referrals` over HTTP/1.1 keep-alive. Each checks "
        "consent, makes the onward ServiceRequest, Task and the partner's minimised message, "
        "validates them against our profiles and writes them with the outbox row in one "
        "transaction; the process's delivery loop, nudged by the commit, then sends the message.",
        "",
        "| measure | value |",
        "| --- | --- |",
        f"| median latency of the POST | {latency * 1e3:.1f} ms |",
        f"| sequential throughput | {throughput:,.0f} onward referrals/s |",
        f"| median time from POST to the partner holding the message | {arrival * 1e3:.1f} ms |",
        "",
    ]


def _until_received(partner: PartnerServer, post_one: Callable[[], None]) -> None:
    before = len(partner.received)
    post_one()
    partner.wait_for(before + 1, timeout=30)


SECTIONS = [onward_section]
