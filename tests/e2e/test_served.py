"""The service as a user runs it: `ld-adapter serve` (gunicorn) on 127.0.0.1, driven over HTTP."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.support.served import cli_token, served_adapter

ROOT = Path(__file__).resolve().parents[2]
REFERRAL = ROOT / "fixtures" / "native" / "referrals" / "adult-custody-telford.json"
SCREENING = ROOT / "fixtures" / "native" / "assessments" / "adult-custody-telford.json"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    """A running server on its own SQLite home, and the environment its CLI shares."""
    with served_adapter(tmp_path_factory.mktemp("home"), {"LD_ADAPTER_WORKERS": "2"}) as server:
        yield server.base, server.env


def test_a_referral_and_its_screen_travel_end_to_end(served, fhirjs) -> None:  # type: ignore[no-untyped-def]
    base, env = served
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {cli_token(env)}"

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
        headers={"Authorization": f"Bearer {cli_token(env)}", "Content-Type": "application/json"},
        timeout=10,
    )
    assert too_big.status_code == 413
    assert too_big.json()["resourceType"] == "OperationOutcome"
    upload = requests.post(f"{base}/console/validate", data=b"x" * 2_000_000, timeout=10)
    assert upload.status_code == 413 and upload.headers["Content-Type"].startswith("text/html")
    assert "1,048,576 bytes" in upload.text and "ld-adapter validate" in upload.text
