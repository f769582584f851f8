"""`$validate` refuses work past its limits quickly, with an OperationOutcome naming the limit."""

from __future__ import annotations

import dataclasses
import json
import time

import pytest

from adapter import create_app
from adapter.settings import Settings

FHIR_JSON = {"Content-Type": "application/fhir+json"}
EMPTY_ENTRIES_1MIB = (
    b'{"resourceType":"Bundle","type":"collection","entry":[' + b",".join([b"{}"] * 349_000) + b"]}"
)


def _post(client, auth, body: bytes, path: str = "/fhir/$validate"):  # type: ignore[no-untyped-def]
    return client.post(path, data=body, headers={**auth, **FHIR_JSON})


def test_a_bundle_of_349k_empty_entries_is_refused_fast(client, auth):
    started = time.perf_counter()
    response = _post(client, auth, EMPTY_ENTRIES_1MIB)
    elapsed = time.perf_counter() - started
    assert response.status_code == 413
    issue = response.get_json()["issue"][0]
    assert issue["code"] == "too-costly"
    assert issue["expression"] == ["Bundle.entry"]
    assert "349,000 entries" in issue["diagnostics"]
    assert "at most 1,000" in issue["diagnostics"]
    assert elapsed < 3, f"refusing took {elapsed:.2f} s"  # it took ~10 s, answering 188 MB


def test_a_bundle_inside_parameters_is_counted_too(client, auth):
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{}] * 1001}
    body = {"resourceType": "Parameters", "parameter": [{"name": "resource", "resource": bundle}]}
    response = _post(client, auth, json.dumps(body).encode())
    assert response.status_code == 413
    assert response.get_json()["issue"][0]["expression"] == ["Bundle.entry"]


def test_a_bundle_at_the_limit_is_validated(client, auth):
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{}] * 1000}
    response = _post(client, auth, json.dumps(bundle).encode())
    assert response.status_code == 200


def test_too_many_json_values_are_refused(client, auth):
    patient = {"resourceType": "Patient", "name": [1] * 100_001}
    response = _post(client, auth, json.dumps(patient).encode())
    assert response.status_code == 413
    issue = response.get_json()["issue"][0]
    assert "100,000 JSON values" in issue["diagnostics"]
    assert "LD_ADAPTER_MAX_JSON_NODES" in issue["diagnostics"]


@pytest.fixture
def small_limits_client(settings: Settings, fhirjs_checked_bodies):  # type: ignore[no-untyped-def]
    app = create_app(dataclasses.replace(settings, max_validate_issues=5))
    yield app.test_client()
    app.extensions["ld_adapter"].store.dispose()


def test_a_long_outcome_lists_the_errors_first_and_says_what_it_left_out(small_limits_client, auth):
    patient = {"resourceType": "Patient", "name": [1] * 40, "gender": "bogus"}
    response = _post(small_limits_client, auth, json.dumps(patient).encode())
    assert response.status_code == 200
    issues = response.get_json()["issue"]
    assert len(issues) == 6
    assert all(i["severity"] == "error" for i in issues[:5])
    assert issues[5]["severity"] == "information"
    assert "36 more issues (36 of them errors)" in issues[5]["diagnostics"]
