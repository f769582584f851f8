"""Two L&D services pass a person between them, each running this adapter, on SQLite and PostgreSQL.

Birmingham (BSMHFT) sees a person in custody whose home is Telford and, with their out-of-area
consent, refers them on to West Mercia (MPFT). West Mercia receives the referral, accepts it and
later records that the person was seen; Birmingham sees both. Then the faults: West Mercia down
while Birmingham sends (delivered once it is back), the same message replayed (409, no second
referral), and a cancellation (revoked at West Mercia).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest
import requests

from adapter.store import Store
from adapter.store.testing import postgres_schema
from tests.integration.store_fixtures import DATABASES, POSTGRES_ENV
from tests.support.served import Served, free_port, served_adapter
from tests.support.two_services import Service, settings_for

ROOT = Path(__file__).resolve().parents[2]
REFERRAL = (
    ROOT / "fixtures" / "native" / "referrals" / "voluntary-attendance-hereford-out-of-area.json"
)
PRACTITIONER = {"name": "Sam Okafor", "role": "L&D practitioner (RMN)"}


@contextmanager
def database(kind: str, name: str) -> Iterator[str | None]:
    """None (each service's own SQLite file) or a PostgreSQL schema of its own."""
    if kind == "sqlite":
        yield None
        return
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        pytest.skip(f"{POSTGRES_ENV} is not set")
    with postgres_schema(base) as url:
        store = Store.from_url(url)
        store.migrate()
        store.dispose()
        yield url


def _services(tmp_path: Path) -> tuple[Service, Service]:
    homes = [tmp_path / "bsmhft", tmp_path / "mpft"]
    for home in homes:
        home.mkdir()
    birmingham = Service("bsmhft", "Birmingham and Solihull MH FT", "RXT", homes[0], free_port())
    west_mercia = Service(
        "mpft", "Midlands Partnership University FT", "RRE", homes[1], free_port()
    )
    return birmingham, west_mercia


def _session(served: Served) -> requests.Session:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {served.token()}"
    return session


def _wait(what: Callable[[], object], timeout: float = 30.0) -> object:
    """What `what` returns once it is truthy; AssertionError on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = what()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError("not in time")


def _birmingham_referral(session: requests.Session, base: str, local_id: str) -> dict:
    """Seen in Birmingham custody, home in Telford, agreed to an out-of-area referral."""
    payload = json.loads(REFERRAL.read_text())
    payload.update(local_id=local_id, site="custody-birmingham", setting="custody-suite")
    payload["person"]["address"] = {
        "lines": ["4 Mall Street"],
        "city": "Telford",
        "postcode": "TF3 4NB",
    }
    posted = session.post(f"{base}/api/referrals", json=payload, timeout=10)
    assert posted.status_code == 201, posted.text
    return posted.json()


def _refer_on(session: requests.Session, base: str, referral_id: str, to: str) -> dict:
    made = session.post(
        f"{base}/api/referrals/{referral_id}/onward-referrals",
        json={
            "pathway": "home-area-ld",
            "to": to,
            "reason": "Lives in Telford; agreed to be seen by the home-area L&D team.",
            "referred_by": PRACTITIONER,
        },
        timeout=10,
    )
    assert made.status_code == 201, made.text
    return made.json()


def _received(session: requests.Session, base: str) -> list[dict]:
    items = session.get(f"{base}/api/referrals", params={"limit": 100}, timeout=10).json()["items"]
    return [item for item in items if item["referral"]["source"] != "E1"]


@pytest.mark.parametrize("kind", DATABASES)
def test_two_services_pass_a_person_between_them(kind: str, tmp_path: Path) -> None:
    birmingham, west_mercia = _services(tmp_path)
    with ExitStack() as stack:
        url_b = stack.enter_context(database(kind, "bsmhft"))
        url_w = stack.enter_context(database(kind, "mpft"))
        settings_b = settings_for(birmingham, west_mercia, url_b)
        settings_w = settings_for(west_mercia, birmingham, url_w)
        b = stack.enter_context(served_adapter(birmingham.home, settings_b, port=birmingham.port))
        w = stack.enter_context(served_adapter(west_mercia.home, settings_w, port=west_mercia.port))
        at_b, at_w = _session(b), _session(w)

        # Birmingham refers the person on; West Mercia has it as a referral of its own.
        referral = _birmingham_referral(at_b, b.base, "BHM-CUST-2026-0001")
        onward = _refer_on(at_b, b.base, referral["id"], west_mercia.home_area_service)
        onward_url = f"{b.base}/api/onward-referrals/{onward['id']}"
        _wait(lambda: at_b.get(onward_url, timeout=10).json()["delivery"]["status"] == "delivered")
        received = _wait(lambda: _received(at_w, w.base))[0]  # type: ignore[index]
        assert received["referral"]["person"]["nhs_number"] == "9990012342"
        assert received["referral"]["source"] == "E5"  # from a Liaison and Diversion service

        # West Mercia accepts it, later sees the person; Birmingham sees both, in order.
        answers = f"{w.base}/api/referrals/{received['id']}"
        accepted = at_w.post(
            f"{answers}/decision",
            json={"decision": "accepted", "recorded_by": "Jo Price"},
            timeout=10,
        )
        assert accepted.status_code in (200, 201), accepted.text
        _wait(lambda: at_b.get(onward_url, timeout=10).json().get("outcome"))
        seen = at_w.post(
            f"{answers}/outcome", json={"outcome": "seen", "recorded_by": "Jo Price"}, timeout=10
        )
        assert seen.status_code in (200, 201), seen.text
        _wait(lambda: len(at_b.get(onward_url, timeout=10).json().get("outcomes", [])) >= 2)
        record = at_b.get(onward_url, timeout=10).json()
        assert [o["status"] for o in record["outcomes"]][:2] == ["accepted", "seen"]
        task = at_b.get(f"{b.base}/fhir/{record['fhir']['task']}", timeout=10).json()
        assert task["status"] in ("accepted", "in-progress")


@pytest.mark.parametrize("kind", DATABASES)
def test_a_receiver_down_a_replay_and_a_cancellation(kind: str, tmp_path: Path) -> None:
    birmingham, west_mercia = _services(tmp_path)
    with ExitStack() as stack:
        url_b = stack.enter_context(database(kind, "bsmhft"))
        url_w = stack.enter_context(database(kind, "mpft"))
        settings_b = settings_for(birmingham, west_mercia, url_b)
        settings_w = settings_for(west_mercia, birmingham, url_w)
        b = stack.enter_context(served_adapter(birmingham.home, settings_b, port=birmingham.port))
        at_b = _session(b)

        # West Mercia is down while Birmingham sends: it is retried, then delivered once.
        referral = _birmingham_referral(at_b, b.base, "BHM-CUST-2026-0002")
        onward = _refer_on(at_b, b.base, referral["id"], west_mercia.home_area_service)
        onward_url = f"{b.base}/api/onward-referrals/{onward['id']}"
        _wait(lambda: at_b.get(onward_url, timeout=10).json()["delivery"]["status"] == "retrying")
        w = stack.enter_context(served_adapter(west_mercia.home, settings_w, port=west_mercia.port))
        at_w = _session(w)
        _wait(lambda: at_b.get(onward_url, timeout=10).json()["delivery"]["status"] == "delivered")
        assert len(_received(at_w, w.base)) == 1

        # The same message again (an operator's resend, a proxy's retry): 409, no second referral.
        message_id = at_b.get(onward_url, timeout=10).json()["delivery"]["message_id"]
        message = at_b.get(
            f"{b.base}/api/messages/{message_id}", params={"include": "body"}, timeout=10
        ).json()
        token = (birmingham.home / f"token-for-{west_mercia.name}").read_text()
        again = requests.post(
            f"{west_mercia.base}/$process-message",
            json=message["body"],
            headers={
                "Authorization": f"Bearer {token}",
                "Content-Type": "application/fhir+json",
                "X-Request-Id": message["request_id"],
                "X-Correlation-Id": message["correlation_id"],
            },
            timeout=10,
        )
        assert again.status_code == 409
        assert again.json()["issue"][0]["code"] == "duplicate"
        assert len(_received(at_w, w.base)) == 1

        # Birmingham cancels: West Mercia's referral is closed and its ServiceRequest revoked.
        cancelled = at_b.post(f"{onward_url}/cancel", timeout=10)
        assert cancelled.status_code == 200, cancelled.text
        there = _received(at_w, w.base)[0]
        _wait(
            lambda: (
                at_w.get(f"{w.base}/api/referrals/{there['id']}", timeout=10).json()["status"]
                == "closed"
            )
        )
        request = at_w.get(f"{w.base}/fhir/{there['fhir']['service_request']}", timeout=10)
        assert request.json()["status"] == "revoked"
