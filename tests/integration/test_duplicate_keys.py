"""A JSON object that repeats a key is refused wherever JSON comes in, never read as last-wins."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from adapter.cli import main
from adapter.conformance import validate
from tests.integration.test_native_api import REFERRAL

# The second nhs_number would silently win with a plain orjson.loads.
_PERSON = json.dumps(REFERRAL["person"])
REPEATED = json.dumps(REFERRAL).replace(_PERSON, _PERSON[:-1] + ', "nhs_number": "9990024685"}')
PATIENT = '{"resourceType": "Patient", "gender": "female", "gender": "male"}'


def _diagnostics(response) -> str:  # type: ignore[no-untyped-def]
    return " ".join(issue["diagnostics"] for issue in response.get_json()["issue"])


def test_a_native_referral_with_a_repeated_key_is_400_and_not_stored(client, auth):
    response = client.post(
        "/api/referrals", data=REPEATED, headers={**auth, "Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert "repeats 'nhs_number'" in _diagnostics(response)
    assert client.get("/api/referrals", headers=auth).get_json()["total"] == 0


def test_a_native_assessment_with_a_repeated_key_is_400(client, auth):
    stored = client.post("/api/referrals", json=REFERRAL, headers=auth).get_json()
    response = client.post(
        f"/api/referrals/{stored['id']}/assessments",
        data='{"kind": "screening", "kind": "assessment"}',
        headers={**auth, "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert "repeats 'kind'" in _diagnostics(response)


def test_fhir_validate_reports_a_repeated_key_as_an_error(client, auth):
    response = client.post(
        "/fhir/Patient/$validate",
        data=PATIENT,
        headers={**auth, "Content-Type": "application/fhir+json"},
    )
    assert response.status_code == 400
    issue = response.get_json()["issue"][0]
    assert issue["severity"] == "error" and "repeats 'gender'" in issue["diagnostics"]


def test_the_validator_reports_a_repeated_key_as_an_error() -> None:
    issues = validate(PATIENT.encode())
    assert [(i.severity, i.message_id) for i in issues] == [("error", "LD-JSON-INVALID")]
    assert "repeats 'gender'" in issues[0].diagnostics


def test_ld_adapter_validate_fails_a_file_with_a_repeated_key(tmp_path: Path) -> None:
    (tmp_path / "patient.json").write_text(PATIENT)
    result = CliRunner().invoke(main, ["validate", str(tmp_path)])
    assert result.exit_code == 1
    assert "repeats 'gender'" in result.output
