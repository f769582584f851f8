"""Matching the person and organisation of a referral: linked, kept, and said when they disagree."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from adapter.settings import Settings
from tests.integration.store_fixtures import *  # noqa: F403  (database_url: SQLite and PostgreSQL)
from tests.integration.test_native_api import REFERRAL, post, referral

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def settings(tmp_path, database_url) -> Settings:  # type: ignore[no-untyped-def]
    """Run every test here on SQLite and, when configured, on PostgreSQL."""
    return Settings(home=tmp_path, base_url="http://testserver", database_url=database_url)


def _other_person_same_nhs_number() -> dict:
    body = referral(local_id="WM-CUST-2026-000500")
    body["person"].update(
        family_name="Different",
        birth_date="1971-01-01",
        address={"lines": ["9 New Road"], "city": "Shrewsbury", "postcode": "SY1 1AA"},
    )
    return body


def test_disagreeing_demographics_are_linked_kept_and_warned(client, auth):
    first = post(client, auth, REFERRAL)
    assert first.get_json()["warnings"] == []

    second = post(client, auth, _other_person_same_nhs_number())

    assert second.status_code == 201, second.get_json()
    body = second.get_json()
    assert body["fhir"]["patient"] == first.get_json()["fhir"]["patient"]
    warnings = body["warnings"]
    assert {tuple(w["expression"]) for w in warnings} == {
        ("person.birth_date",),
        ("person.family_name",),
    }
    assert {w["severity"] for w in warnings} == {"warning"}
    assert not any("1971" in w["diagnostics"] or "Different" in w["diagnostics"] for w in warnings)
    read_later = client.get(f"/api/referrals/{body['id']}", headers=auth).get_json()
    assert read_later["warnings"] == warnings

    patient = client.get(f"/fhir/{body['fhir']['patient']}", headers=auth).get_json()
    assert patient["birthDate"] == "1990-03-14"
    assert patient["name"][0]["family"] == "Example"
    assert patient["address"][0]["city"] == "Shrewsbury"  # newer contact details win
    assert patient["meta"]["versionId"] == "2"


def test_newer_address_for_the_same_person_is_a_new_patient_version(client, auth):
    first = post(client, auth, REFERRAL).get_json()
    moved = referral(local_id="WM-CUST-2026-000501")
    moved["person"]["address"] = {"lines": ["2 Moved Lane"], "city": "Telford"}

    second = post(client, auth, moved).get_json()

    assert second["warnings"] == []
    patient_ref = first["fhir"]["patient"]
    history = client.get(f"/fhir/{patient_ref}/_history", headers=auth).get_json()
    addresses = [e["resource"]["address"][0]["line"] for e in history["entry"]]
    assert addresses == [["2 Moved Lane"], ["1 Test Street"]]


def test_the_same_details_again_make_no_new_patient_version(client, auth):
    first = post(client, auth, REFERRAL).get_json()
    post(client, auth, referral(local_id="WM-CUST-2026-000502"))
    patient = client.get(f"/fhir/{first['fhir']['patient']}", headers=auth).get_json()
    assert patient["meta"]["versionId"] == "1"


NHS = "https://fhir.nhs.uk/Id/nhs-number"
HARTLEY = json.loads((ROOT / "fixtures/native/referrals/adult-custody-telford.json").read_text())


def _hartley(local_id: str, nhs_number: str | None) -> dict:
    """Hartley's custody referral (custody record 22TE/4417/25) with another id and NHS number."""
    body = copy.deepcopy(HARTLEY)
    body["local_id"] = local_id
    if nhs_number is None:
        del body["person"]["nhs_number"]
    else:
        body["person"]["nhs_number"] = nhs_number
    return body


def _nhs_numbers(client, auth, patient_ref: str) -> list[str]:  # type: ignore[no-untyped-def]
    patient = client.get(f"/fhir/{patient_ref}", headers=auth).get_json()
    return [i["value"] for i in patient.get("identifier", []) if i["system"] == NHS]


def _every_patient(client, auth) -> list[dict]:  # type: ignore[no-untyped-def]
    bundle = client.get("/fhir/Patient?_count=100", headers=auth).get_json()
    return [e["resource"] for e in bundle.get("entry", [])]


def _expressions(record: dict) -> set[tuple[str, ...]]:
    return {tuple(w["expression"]) for w in record["warnings"]}


@pytest.mark.parametrize("nhs_number", ["9990012350", "9990012393"])
def test_a_different_nhs_number_with_the_same_custody_number_is_never_merged(
    client, auth, nhs_number
):
    """Review F8: linked by custody number, the stored Patient used to gain the new NHS number."""
    first = post(client, auth, HARTLEY).get_json()

    second = post(client, auth, _hartley("WMP-TEL-2025-000482", nhs_number))

    assert second.status_code == 201, second.get_json()
    body = second.get_json()
    assert body["fhir"]["patient"] != first["fhir"]["patient"]
    assert _expressions(body) == {("person.nhs_number",)}
    assert body["warnings"][0]["severity"] == "warning"
    assert nhs_number not in json.dumps(body["warnings"])
    assert _nhs_numbers(client, auth, first["fhir"]["patient"]) == ["9990012342"]
    assert _nhs_numbers(client, auth, body["fhir"]["patient"]) == [nhs_number]
    history = client.get(f"/fhir/{first['fhir']['patient']}/_history", headers=auth).get_json()
    assert history["total"] == 1  # Hartley's Patient was not touched
    read_later = client.get(f"/api/referrals/{body['id']}", headers=auth).get_json()
    assert read_later["warnings"] == body["warnings"]
