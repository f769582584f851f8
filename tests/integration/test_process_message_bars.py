"""NHS England's BaRS examples POSTed to $process-message: a precise answer each, never a 500."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from adapter.settings import Settings
from tests.integration.test_process_message import (  # noqa: F401  (fixtures)
    URL,
    codes_of,
    mint,
    partner,
    receiving_app,
    receiving_settings,
)
from tests.support.inbound import OTHER_CLIENT, OUR_ODS, message_headers

BARS = Path("/work/shared/reference/bars")
pytestmark = pytest.mark.skipif(not BARS.is_dir(), reason="shared/reference is beside the repo")
NOT_A_MESSAGE = (400, "invalid", "REC_BAD_REQUEST")
UNKNOWN_WORKFLOW = (400, "invariant", "REC_BAD_REQUEST")
# file → (status, issue code, REC_ code), and why.
EXPECTED = {
    "CapabilityStatement-BaRS-API.json": NOT_A_MESSAGE,
    "MessageDefinition-ServiceRequest-request-CaseTransfer.json": NOT_A_MESSAGE,  # a searchset
    # A referral for DoS service 111111111 at RYE: not us.
    "REFREQ07-Referral-GP-to-OC.json": (422, "processing", "REC_UNPROCESSABLE_ENTITY"),
    # The 2021 shape: retired event system (admin-notify), no BaRS reason.
    "Referral-999-to-CAS-2021.json": UNKNOWN_WORKFLOW,
    # Cancelling a 999-to-CAS validation request: a workflow an L&D service does not take.
    "SERVREQ01-Cancellation-Revoked.json": UNKNOWN_WORKFLOW,
    "ValidationRequest-POST.json": UNKNOWN_WORKFLOW,
    # A response (a workflow we take) addressed to DoS service 111111111: not us.
    "ValidationResponse-POST.json": (422, "processing", "REC_UNPROCESSABLE_ENTITY"),
    **{
        f"OperationOutcome/{p.name}": NOT_A_MESSAGE for p in sorted(BARS.glob("OperationOutcome/*"))
    },
}
ODS_SYSTEM = "https://fhir.nhs.uk/id/ods-organization-code"  # as the examples write it


def test_every_example_has_an_expected_answer() -> None:
    found = {str(p.relative_to(BARS)) for p in BARS.rglob("*.json")}
    assert found == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_an_example_gets_the_answer_it_deserves(
    partner: FlaskClient,  # noqa: F811
    receiving_settings: Settings,  # noqa: F811
    name: str,
) -> None:
    headers = message_headers(mint(receiving_settings))
    response = partner.post(URL, data=(BARS / name).read_bytes(), headers=headers)
    status, code, rec = EXPECTED[name]
    assert response.status_code == status, response.get_json()
    assert codes_of(response)[0] == (code, rec)
    assert response.headers["X-Request-Id"] == headers["X-Request-Id"]


def readdressed_referral(nhs_number: str | None = None) -> dict:
    """REFREQ07 sent to us (ODS RXT) by our partner MPFT (RRE)."""
    message = json.loads((BARS / "REFREQ07-Referral-GP-to-OC.json").read_text())
    header = message["entry"][0]["resource"]
    by_url = {e["fullUrl"]: e["resource"] for e in message["entry"]}
    by_url[header["destination"][0]["receiver"]["reference"]]["identifier"] = [
        {"system": ODS_SYSTEM, "value": OUR_ODS}
    ]
    by_url[header["sender"]["reference"]]["identifier"] = [{"system": ODS_SYSTEM, "value": "RRE"}]
    for resource in by_url.values():
        for identifier in resource.get("identifier", []) if nhs_number else []:
            if resource["resourceType"] == "Patient" and identifier["system"].endswith(
                "nhs-number"
            ):
                identifier["value"] = nhs_number
    return message


def test_the_referral_example_sent_to_us_by_a_partner_is_checked_by_our_validator(
    partner: FlaskClient,  # noqa: F811
    receiving_settings: Settings,  # noqa: F811
) -> None:
    headers = message_headers(mint(receiving_settings))
    response = partner.post(URL, json=readdressed_referral(), headers=headers)
    assert response.status_code == 400
    issue = response.get_json()["issue"][0]
    assert (issue["code"], issue["expression"]) == (
        "value",
        ["Bundle.entry[8].resource.identifier[0].value"],
    )
    assert "3478526985" not in response.get_data(as_text=True)  # never the value sent
    fixed = readdressed_referral(nhs_number="9990012342")
    assert (
        partner.post(URL, json=fixed, headers=message_headers(mint(receiving_settings))).status_code
        == 201
    )


def test_the_referral_example_from_an_organisation_other_than_the_tokens_is_403(
    partner: FlaskClient,  # noqa: F811
    receiving_settings: Settings,  # noqa: F811
) -> None:
    council = mint(receiving_settings, subject=OTHER_CLIENT)
    response = partner.post(
        URL, json=readdressed_referral("9990012342"), headers=message_headers(council)
    )
    assert response.status_code == 403
    assert codes_of(response) == [("forbidden", "REC_FORBIDDEN")]
