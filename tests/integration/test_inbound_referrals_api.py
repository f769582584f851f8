"""A partner's referral through POST /fhir/$process-message: the team sees it in /api/referrals;
the partner's cancellation closes it."""

from __future__ import annotations

import copy
import json
import uuid
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from adapter.auth import mint_dev_token
from adapter.settings import Settings
from tests.support.inbound import (
    MPFT_CLIENT,
    OUR_ODS,
    message_headers,
    partners_with_clients,
    referral_message,
)

ROOT = Path(__file__).resolve().parents[2]
CANCELLATION = ROOT / "fixtures" / "messages" / "health-gp.cancellation.json"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """We are BSMHFT (RXT); MPFT's adapter is a partner with its own OAuth client."""
    return Settings(
        home=tmp_path,
        base_url="http://testserver",
        ods_code=OUR_ODS,
        partners_path=partners_with_clients(tmp_path),
    )


@pytest.fixture
def mpft(settings: Settings) -> str:
    return mint_dev_token(settings, ["system/Bundle.c"], subject=MPFT_CLIENT)


def cancellation_of(referral: dict) -> dict:
    """MPFT's cancellation of the referral it sent, addressed as the referral was."""
    bundle = json.loads(CANCELLATION.read_text())
    bundle["id"] = str(uuid.uuid4())
    bundle.pop("identifier", None)
    header = bundle["entry"][0]["resource"]
    sent = referral["entry"][0]["resource"]
    header["destination"] = copy.deepcopy(sent["destination"])
    ours = [e for e in referral["entry"] if e["resource"]["resourceType"] == "Organization"]
    bundle["entry"] = [
        e for e in bundle["entry"] if e["resource"]["resourceType"] != "Organization"
    ] + copy.deepcopy(ours)
    return bundle


def post(client: FlaskClient, token: str, bundle: dict) -> tuple[int, dict]:
    response = client.post("/fhir/$process-message", json=bundle, headers=message_headers(token))
    return response.status_code, response.get_json()


def referrals(client: FlaskClient, auth: dict) -> list[dict]:
    response = client.get("/api/referrals", headers=auth)
    assert response.status_code == 200, response.get_json()
    return list(response.get_json()["items"])


def test_a_partners_referral_is_listed_for_the_team_and_its_cancellation_closes_it(
    client: FlaskClient, auth: dict, mpft: str
) -> None:
    sent = referral_message()
    status, outcome = post(client, mpft, sent)
    assert status == 201, outcome
    [listed] = referrals(client, auth)
    referral = listed["referral"]
    assert (referral["local_id"], referral["source"], listed["status"]) == (
        "RRE-onward-1",
        "E5",
        "received",
    )
    assert (referral["setting"], referral["site"]) == ("community", "custody-birmingham")
    assert [c["scope"] for c in referral["consents"]] == ["out-of-area-referral"]

    status, outcome = post(client, mpft, cancellation_of(sent))
    assert status == 200, outcome
    [closed] = referrals(client, auth)
    assert closed["id"] == listed["id"] and closed["status"] == "closed"
    request = client.get(f"/fhir/{closed['fhir']['service_request']}", headers=auth)
    assert request.get_json()["status"] == "revoked"

    status, outcome = post(client, mpft, cancellation_of(sent))
    assert status == 409 and outcome["issue"][0]["code"] == "conflict"
    assert outcome["issue"][0]["details"]["coding"][0]["code"] == "REC_CONFLICT"


def test_a_cancellation_of_a_referral_never_received_is_not_found(
    client: FlaskClient, auth: dict, mpft: str
) -> None:
    status, outcome = post(client, mpft, cancellation_of(referral_message()))
    assert status == 404, outcome
    assert outcome["issue"][0]["details"]["coding"][0]["code"] == "REC_NOT_FOUND"
    assert referrals(client, auth) == []


def _patient_at(bundle: dict) -> int:
    kinds = [e["resource"]["resourceType"] for e in bundle["entry"]]
    return kinds.index("Patient")


@pytest.mark.parametrize(
    ("element", "value", "expression"),
    [
        ("birthDate", "2099-01-01", "birthDate"),
        ("name", [{"family": "P" * 500, "given": ["Owen"]}], "name.family"),
        (
            "identifier",
            [{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9990012343"}],
            "identifier[0].value",
        ),
    ],
)
def test_a_refused_referral_names_the_element_of_the_senders_bundle(
    client: FlaskClient, auth: dict, mpft: str, element: str, value: object, expression: str
) -> None:
    """The sender is a FHIR system: it is told which element of its Bundle to mend."""
    bundle = referral_message()
    at = _patient_at(bundle)
    bundle["entry"][at]["resource"][element] = value
    status, outcome = post(client, mpft, bundle)
    assert status in (400, 422), outcome
    expressions = [e for i in outcome["issue"] for e in i.get("expression", [])]
    assert expressions == [f"Bundle.entry[{at}].resource.{expression}"], outcome
    assert "person." not in json.dumps(outcome) and "received_at" not in json.dumps(outcome)
    assert referrals(client, auth) == []
