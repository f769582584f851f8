"""Matching the person and organisation of a referral: linked, kept, and said when they disagree."""

from __future__ import annotations

import pytest

from adapter.settings import Settings
from tests.integration.store_fixtures import *  # noqa: F403  (database_url: SQLite and PostgreSQL)
from tests.integration.test_native_api import REFERRAL, post, referral


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


def test_a_different_nhs_number_under_the_same_custody_number_is_warned_never_merged(client, auth):  # type: ignore[no-untyped-def]
    first = post(client, auth, REFERRAL).get_json()
    other = referral(local_id="WM-CUST-2026-000503")
    other["person"]["nhs_number"] = "9990012350"  # valid, but not the stored person's

    second = post(client, auth, other)

    assert second.status_code == 201, second.get_json()
    body = second.get_json()
    assert body["fhir"]["patient"] == first["fhir"]["patient"]  # matched by custody number
    assert [tuple(w["expression"]) for w in body["warnings"]] == [("person.nhs_number",)]
    assert "9990012350" not in body["warnings"][0]["diagnostics"]
    patient = client.get(f"/fhir/{body['fhir']['patient']}", headers=auth).get_json()
    numbers = [i["value"] for i in patient["identifier"] if i["system"].endswith("/nhs-number")]
    assert numbers == ["9990012342"]  # one person, one NHS number: a GP is never sent two
