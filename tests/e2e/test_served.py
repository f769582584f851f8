"""The service as a user runs it: `ld-adapter serve` (gunicorn) on 127.0.0.1, driven over HTTP."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
REFERRAL = ROOT / "fixtures" / "native" / "referrals" / "adult-custody-telford.json"
SCREENING = ROOT / "fixtures" / "native" / "assessments" / "adult-custody-telford.json"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    """A running server on its own SQLite home, and the environment its CLI shares."""
    home = tmp_path_factory.mktemp("home")
    port = _free_port()
    env = {
        **os.environ,
        "LD_ADAPTER_HOME": str(home),
        "LD_ADAPTER_PORT": str(port),
        "LD_ADAPTER_WORKERS": "2",
        "LD_ADAPTER_BASE_URL": f"http://127.0.0.1:{port}",
    }
    log = (home / "server.log").open("wb")  # a file, not a pipe: a full pipe would stall it
    server = subprocess.Popen(
        [sys.executable, "-m", "adapter.cli", "serve"], env=env, stdout=log, stderr=log
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except (requests.ConnectionError, requests.Timeout):  # a worker may still be booting
                pass
            assert server.poll() is None, (home / "server.log").read_text()
            assert time.monotonic() < deadline, "the server did not become ready in 30 s"
            time.sleep(0.1)
        yield base, env
    finally:
        server.terminate()
        server.wait(timeout=15)
        log.close()


def _token(env: dict[str, str]) -> str:
    minted = subprocess.run(
        [sys.executable, "-m", "adapter.cli", "token"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return minted.stdout.strip()


def test_a_referral_and_its_screen_travel_end_to_end(served, fhirjs) -> None:  # type: ignore[no-untyped-def]
    base, env = served
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {_token(env)}"

    posted = session.post(
        f"{base}/api/referrals", json=json.loads(REFERRAL.read_text()), timeout=10
    )
    assert posted.status_code == 201, posted.text
    record = posted.json()
    screened = session.post(
        f"{base}/api/referrals/{record['id']}/assessments",
        json=json.loads(SCREENING.read_text()),
        timeout=10,
    )
    assert screened.status_code == 201, screened.text

    search = session.get(
        f"{base}/fhir/ServiceRequest",
        params={
            "patient:identifier": "https://fhir.nhs.uk/Id/nhs-number|9990012342",
            "_include": "ServiceRequest:patient",
        },
        timeout=10,
    )
    bundle = search.json()
    assert search.headers["Content-Type"].startswith("application/fhir+json")
    assert [e["search"]["mode"] for e in bundle["entry"]] == ["match", "include"]
    assert bundle["entry"][0]["fullUrl"] == f"{base}/fhir/{record['fhir']['service_request']}"
    assert fhirjs.validate(bundle) == []
    response = session.get(f"{base}/fhir/{screened.json()['fhir']['questionnaire_response']}")
    assert fhirjs.validate(response.json()) == []


def test_the_server_refuses_what_it_should(served) -> None:  # type: ignore[no-untyped-def]
    base, env = served
    assert requests.get(f"{base}/fhir/metadata", timeout=10).status_code == 200
    assert requests.get(f"{base}/api/referrals", timeout=10).status_code == 401
    too_big = requests.post(
        f"{base}/api/referrals",
        data=b"{" + b" " * 2_000_000 + b"}",
        headers={"Authorization": f"Bearer {_token(env)}", "Content-Type": "application/json"},
        timeout=10,
    )
    assert too_big.status_code == 413
    assert too_big.json()["resourceType"] == "OperationOutcome"
