"""Duplicates under real concurrency: `ld-adapter serve`, 4 gunicorn workers, PostgreSQL.

50 identical referral messages at once (same X-Request-Id) must make exactly one referral and
get one 201 and 49 × 409 `duplicate`. It runs the real referral handler, so it needs
adapter.services.inbound_referrals (helper I's); without it the test is skipped.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest
import requests

from adapter.store.testing import postgres_schema
from tests.integration.store_fixtures import POSTGRES_ENV
from tests.support.inbound import (
    OUR_ODS,
    message_headers,
    partner_token,
    partners_with_clients,
    referral_message,
)
from tests.support.served import Served, cli_token, served_adapter

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        importlib.util.find_spec("adapter.services.inbound_referrals") is None,
        reason="the referral handler (adapter.services.inbound_referrals) is not merged yet",
    ),
]
PARALLEL = 50


@dataclass(frozen=True)
class Receiver:
    served: Served
    partner_token: str
    staff_token: str


@pytest.fixture(scope="module")
def receiver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Receiver]:
    base_url = os.environ.get(POSTGRES_ENV)
    if not base_url:
        pytest.skip(f"{POSTGRES_ENV} is not set")
    home = tmp_path_factory.mktemp("home")
    with postgres_schema(base_url) as url:
        settings = {
            "LD_ADAPTER_DATABASE_URL": url,
            "LD_ADAPTER_WORKERS": "4",
            "LD_ADAPTER_ODS_CODE": OUR_ODS,
            "LD_ADAPTER_PARTNERS": str(partners_with_clients(home)),
        }
        with served_adapter(home, settings) as served:
            yield Receiver(served, partner_token(served), cli_token(served.env))


def test_fifty_identical_messages_at_once_make_one_referral(receiver: Receiver) -> None:
    message = referral_message()
    headers = message_headers(receiver.partner_token)
    start = threading.Barrier(PARALLEL)

    def post(_: int) -> requests.Response:
        start.wait(timeout=30)
        return requests.post(
            f"{receiver.served.base}/fhir/$process-message",
            json=message,
            headers=headers,
            timeout=60,
        )

    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        responses = list(pool.map(post, range(PARALLEL)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [409] * (PARALLEL - 1), next(
        (r.text for r in responses if r.status_code not in (201, 409)), ""
    )
    duplicates = [r.json()["issue"][0]["code"] for r in responses if r.status_code == 409]
    assert set(duplicates) == {"duplicate"}
    assert all(r.headers["X-Request-Id"] == headers["X-Request-Id"] for r in responses)
    listed = requests.get(
        f"{receiver.served.base}/api/referrals",
        headers={"Authorization": f"Bearer {receiver.staff_token}"},
        timeout=30,
    ).json()
    assert listed["total"] == 1, listed
