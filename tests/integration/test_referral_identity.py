"""Matching the person and organisation of a referral: linked, kept, and said when they disagree."""

from __future__ import annotations

import copy
import json
import threading
from concurrent.futures import ThreadPoolExecutor
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


def _with_custody_number(body: dict, value: str) -> dict:
    body["person"]["local_identifiers"][0]["value"] = value
    return body


def test_anothers_custody_number_is_not_added_to_the_person_matched_by_nhs_number(client, auth):
    first = post(client, auth, HARTLEY).get_json()
    other = _with_custody_number(_hartley("WMP-TEL-2025-000482", "9990012350"), "22TE/9999/25")
    assert post(client, auth, other).get_json()["warnings"] == []

    mixed = _with_custody_number(_hartley("WMP-TEL-2025-000483", "9990012342"), "22TE/9999/25")
    third = post(client, auth, mixed).get_json()

    assert third["fhir"]["patient"] == first["fhir"]["patient"]  # the NHS number decides
    assert _expressions(third) == {("person.local_identifiers[0]",)}
    patient = client.get(f"/fhir/{first['fhir']['patient']}", headers=auth).get_json()
    assert [i["value"] for i in patient["identifier"]] == ["9990012342", "22TE/4417/25"]
    assert patient["meta"]["versionId"] == "1"


def test_a_custody_number_two_people_hold_links_a_referral_without_nhs_number_to_neither(
    client, auth
):
    first = post(client, auth, HARTLEY).get_json()
    second = post(client, auth, _hartley("WMP-TEL-2025-000482", "9990012350")).get_json()

    third = post(client, auth, _hartley("WMP-TEL-2025-000483", None)).get_json()

    assert third["fhir"]["patient"] not in (first["fhir"]["patient"], second["fhir"]["patient"])
    assert _expressions(third) == {("person.local_identifiers[0]",)}
    assert _nhs_numbers(client, auth, third["fhir"]["patient"]) == []
    for record, number in ((first, "9990012342"), (second, "9990012350")):
        assert _nhs_numbers(client, auth, record["fhir"]["patient"]) == [number]


def test_a_person_known_by_custody_number_only_gains_one_nhs_number_and_no_second(client, auth):
    first = post(client, auth, _hartley("WMP-TEL-2025-000481", None)).get_json()

    traced = post(client, auth, HARTLEY | {"local_id": "WMP-TEL-2025-000482"}).get_json()
    other = post(client, auth, _hartley("WMP-TEL-2025-000483", "9990012350")).get_json()

    assert traced["fhir"]["patient"] == first["fhir"]["patient"] and traced["warnings"] == []
    assert _nhs_numbers(client, auth, first["fhir"]["patient"]) == ["9990012342"]
    assert other["fhir"]["patient"] != first["fhir"]["patient"]
    assert _expressions(other) == {("person.nhs_number",)}


def test_correcting_a_referrals_nhs_number_moves_it_to_its_own_person(client, auth):
    first = post(client, auth, HARTLEY).get_json()
    second = post(client, auth, _hartley("WMP-TEL-2025-000482", "9990012342")).get_json()
    assert second["fhir"]["patient"] == first["fhir"]["patient"]

    corrected = client.put(
        f"/api/referrals/{second['id']}",
        json=_hartley("WMP-TEL-2025-000482", "9990012350"),
        headers={**auth, "If-Match": 'W/"1"'},
    )

    assert corrected.status_code == 200, corrected.get_json()
    body = corrected.get_json()
    assert body["fhir"]["patient"] != first["fhir"]["patient"]
    assert _expressions(body) == {("person.nhs_number",)}
    assert _nhs_numbers(client, auth, body["fhir"]["patient"]) == ["9990012350"]
    assert _nhs_numbers(client, auth, first["fhir"]["patient"]) == ["9990012342"]
    request = client.get(f"/fhir/{body['fhir']['service_request']}", headers=auth).get_json()
    assert request["subject"]["reference"] == body["fhir"]["patient"]
    unchanged = client.get(f"/api/referrals/{first['id']}", headers=auth).get_json()
    assert unchanged["fhir"]["patient"] == first["fhir"]["patient"]


def test_a_refused_conflicting_referral_stores_no_person(client, auth):
    """The new Patient a conflict makes is created in the referral's transaction, or not at all."""
    first = post(client, auth, HARTLEY).get_json()

    same_local_id = post(client, auth, _hartley(HARTLEY["local_id"], "9990012350"))

    assert same_local_id.status_code == 409
    patients = _every_patient(client, auth)
    assert [p["id"] for p in patients] == [first["fhir"]["patient"].split("/")[1]]
    assert patients[0]["meta"]["versionId"] == "1"
    listed = client.get("/api/referrals", headers=auth).get_json()
    assert listed["total"] == 1


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_conflicting_referrals_at_once_make_two_people_with_one_nhs_number_each(app, client, auth):
    """Eight referrals, two NHS numbers, one custody number, all at once: never one person."""
    bodies = [
        _hartley(f"WMP-TEL-2025-0005{i:02}", ("9990012342", "9990012350")[i % 2]) for i in range(8)
    ]
    start = threading.Barrier(len(bodies))

    def send(body: dict) -> int:
        own = app.test_client()
        start.wait(timeout=30)
        return own.post("/api/referrals", json=body, headers=auth).status_code

    with ThreadPoolExecutor(max_workers=len(bodies)) as pool:
        assert list(pool.map(send, bodies)) == [201] * len(bodies)
    numbers = [
        [i["value"] for i in patient["identifier"] if i["system"] == NHS]
        for patient in _every_patient(client, auth)
    ]
    assert sorted(numbers) == [["9990012342"], ["9990012350"]]
