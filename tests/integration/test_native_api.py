"""The native referral API through the Flask client: intake, read, update, list, errors."""

from __future__ import annotations

import copy

import pytest

from adapter.settings import Settings
from tests.integration.store_fixtures import *  # noqa: F403  (database_url: SQLite and PostgreSQL)


@pytest.fixture
def settings(tmp_path, database_url) -> Settings:  # type: ignore[no-untyped-def]
    """Run every test here on SQLite and, when configured, on PostgreSQL."""
    return Settings(home=tmp_path, base_url="http://testserver", database_url=database_url)


REFERRAL = {
    "local_id": "WM-CUST-2026-000123",
    "received_at": "2026-11-20T14:05:00+00:00",
    "source": "E1",
    "setting": "custody-suite",
    "site": "custody-telford",
    "urgency": "urgent",
    "person": {
        "nhs_number": "9990012342",
        "local_identifiers": [{"type": "custody-record-number", "value": "22WM0456789"}],
        "family_name": "Example",
        "given_names": ["Alex", "Jordan"],
        "birth_date": "1990-03-14",
        "gender": "male",
        "ethnic_category": "A",
        "address": {"lines": ["1 Test Street"], "city": "Telford", "postcode": "TF1 1AA"},
        "registered_gp_ods": "M85001",
    },
    "referrer": {
        "name": "Sgt Casey Moor",
        "role": "Custody sergeant",
        "organisation_ods": "X99",
        "organisation_name": "West Mercia Police",
        "phone": "01952 000000",
    },
    "concerns": ["mental-health", "alcohol"],
    "consents": [
        {
            "scope": "screening",
            "decision": "agreed",
            "capacity": "has-capacity",
            "recorded_by": "Sam Nurse",
            "recorded_at": "2026-11-20T14:30:00+00:00",
        },
        {
            "scope": "share-health",
            "decision": "agreed",
            "capacity": "has-capacity",
            "recorded_by": "Sam Nurse",
            "recorded_at": "2026-11-20T14:31:00+00:00",
        },
    ],
    "notes": ["Appeared distressed at booking-in."],
}


def referral(**changes: object) -> dict:
    """A valid referral with some top-level fields changed."""
    body = copy.deepcopy(REFERRAL)
    body.update(changes)
    return body


def post(client, auth, body):  # type: ignore[no-untyped-def]
    return client.post("/api/referrals", json=body, headers=auth)


def expressions(response) -> list[str]:  # type: ignore[no-untyped-def]
    outcome = response.get_json()
    assert outcome["resourceType"] == "OperationOutcome"
    return [expr for issue in outcome["issue"] for expr in issue.get("expression", [])]


def test_post_referral_stores_it_and_returns_fhir_ids(client, auth):
    response = post(client, auth, REFERRAL)

    assert response.status_code == 201
    record = response.get_json()
    assert response.headers["Location"] == f"/api/referrals/{record['id']}"
    assert response.headers["ETag"] == 'W/"1"'
    assert record["referral"]["local_id"] == REFERRAL["local_id"]
    assert record["status"] == "received"
    assert record["fhir"]["service_request"].startswith("ServiceRequest/")
    assert record["fhir"]["performer"] == "HealthcareService/mpft-ld-shropshire-telford"
    assert len(record["fhir"]["consents"]) == 2

    read_back = client.get(response.headers["Location"], headers=auth)
    assert read_back.status_code == 200
    assert read_back.get_json() == record


def test_referral_is_readable_as_fhir(client, auth):
    record = post(client, auth, REFERRAL).get_json()

    service_request = client.get(f"/fhir/{record['fhir']['service_request']}", headers=auth)
    assert service_request.status_code == 200
    body = service_request.get_json()
    assert body["subject"]["reference"] == record["fhir"]["patient"]
    assert body["locationReference"][0]["reference"] == "Location/custody-telford"
    patient = client.get(f"/fhir/{record['fhir']['patient']}", headers=auth).get_json()
    nhs = [i["value"] for i in patient["identifier"] if i["system"].endswith("nhs-number")]
    assert nhs == ["9990012342"]


def test_second_referral_for_same_person_reuses_patient(client, auth):
    first = post(client, auth, REFERRAL).get_json()
    second_body = referral(local_id="WM-CUST-2026-000999")
    second_body["person"]["local_identifiers"] = [
        {"type": "custody-record-number", "value": "22WM0999999"}
    ]
    second = post(client, auth, second_body).get_json()

    assert second["fhir"]["patient"] == first["fhir"]["patient"]
    patient = client.get(f"/fhir/{first['fhir']['patient']}", headers=auth).get_json()
    values = {i["value"] for i in patient["identifier"]}
    assert {"22WM0456789", "22WM0999999"} <= values
    assert patient["meta"]["versionId"] == "2"


def test_person_without_nhs_number_is_matched_by_local_identifier(client, auth):
    body = referral()
    del body["person"]["nhs_number"]
    first = post(client, auth, body).get_json()
    body2 = referral(local_id="WM-CUST-2026-000777")
    del body2["person"]["nhs_number"]
    second = post(client, auth, body2).get_json()
    assert second["fhir"]["patient"] == first["fhir"]["patient"]


def test_duplicate_local_id_is_409_and_stores_nothing_more(client, auth):
    assert post(client, auth, REFERRAL).status_code == 201
    again = post(client, auth, REFERRAL)
    assert again.status_code == 409
    assert again.get_json()["issue"][0]["code"] == "duplicate"
    listing = client.get("/api/referrals", headers=auth).get_json()
    assert listing["total"] == 1


def test_unknown_site_is_400_and_nothing_is_half_stored(client, auth):
    response = post(client, auth, referral(site="custody-atlantis"))
    assert response.status_code == 400
    assert expressions(response) == ["site"]
    patients = client.get("/fhir/Patient", headers=auth).get_json()
    assert patients["total"] == 0


def test_bad_fields_are_named_without_echoing_values(client, auth):
    body = referral(urgency="whenever")
    body["person"]["nhs_number"] = "9990012343"  # fails Modulus 11
    response = post(client, auth, body)
    assert response.status_code == 400
    assert set(expressions(response)) >= {"urgency", "person.nhs_number"}
    assert "9990012343" not in response.get_data(as_text=True)


def test_update_makes_a_new_version_and_if_match_guards_it(client, auth):
    record = post(client, auth, REFERRAL).get_json()
    location = f"/api/referrals/{record['id']}"
    changed = referral(urgency="routine", concerns=["drugs"])

    updated = client.put(location, json=changed, headers={**auth, "If-Match": 'W/"1"'})
    assert updated.status_code == 200
    assert updated.get_json()["version"] == 2
    assert updated.get_json()["referral"]["urgency"] == "routine"
    service_request = client.get(f"/fhir/{record['fhir']['service_request']}", headers=auth)
    assert service_request.get_json()["meta"]["versionId"] == "2"
    assert service_request.get_json()["priority"] == "routine"

    stale = client.put(location, json=changed, headers={**auth, "If-Match": 'W/"1"'})
    assert stale.status_code == 412

    for odd in ('W/"²"', "9" * 5000):
        refused = client.put(location, json=changed, headers={**auth, "If-Match": odd})
        assert refused.status_code == 400
        assert expressions(refused) == ["If-Match"]


def test_update_cannot_change_local_id(client, auth):
    record = post(client, auth, REFERRAL).get_json()
    response = client.put(
        f"/api/referrals/{record['id']}", json=referral(local_id="OTHER-1"), headers=auth
    )
    assert response.status_code == 400
    assert expressions(response) == ["local_id"]


def test_dropping_a_consent_on_update_withdraws_its_fhir_consent(client, auth):
    record = post(client, auth, REFERRAL).get_json()
    body = referral()
    body["consents"] = body["consents"][:1]
    updated = client.put(f"/api/referrals/{record['id']}", json=body, headers=auth).get_json()
    assert len(updated["fhir"]["consents"]) == 1
    dropped = client.get(f"/fhir/{record['fhir']['consents'][1]}", headers=auth).get_json()
    assert dropped["status"] == "inactive"


def test_list_filters_and_pages(client, auth):
    for number in range(3):
        post(client, auth, referral(local_id=f"L-{number}", site="custody-shrewsbury"))
    post(
        client,
        auth,
        referral(local_id="L-court", site="court-cannock-magistrates", setting="magistrates-court"),
    )

    page = client.get("/api/referrals?site=custody-shrewsbury&limit=2", headers=auth).get_json()
    assert page["total"] == 3
    assert len(page["items"]) == 2
    assert "next" in page["links"]
    rest = client.get(page["links"]["next"], headers=auth).get_json()
    assert len(rest["items"]) == 1
    assert {i["referral"]["local_id"] for i in page["items"] + rest["items"]} == {
        "L-0",
        "L-1",
        "L-2",
    }


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("limit=0", "limit"),
        ("limit=%C2%B2", "limit"),  # "²" passes str.isdigit() but not int()
        ("offset=" + "9" * 5000, "offset"),  # past int()'s digit limit
        ("received_from=yesterday", "received_from"),
        ("colour=red", "colour"),
    ],
)
def test_list_rejects_bad_query_parameters(client, auth, query, field):
    response = client.get(f"/api/referrals?{query}", headers=auth)
    assert response.status_code == 400
    assert expressions(response) == [field]


def test_read_unknown_referral_is_404(client, auth):
    response = client.get("/api/referrals/no-such-id", headers=auth)
    assert response.status_code == 404
    assert response.get_json()["issue"][0]["code"] == "not-found"


def test_next_seen_from_is_the_next_opening_when_closed(client, auth):
    # Telford is open 08:00-19:00 on weekdays: a referral at 22:00 on Friday is seen on Saturday.
    record = post(client, auth, referral(received_at="2026-11-20T22:00:00+00:00")).get_json()
    assert record["next_seen_from"].startswith("2026-11-21T09:00:00")


def test_openapi_document_describes_the_referral_schema(client):
    document = client.get("/api/openapi.json").get_json()
    assert document["openapi"].startswith("3.")
    assert "/api/referrals" in document["paths"]
    properties = document["components"]["schemas"]["Referral"]["properties"]
    assert {"local_id", "person", "consents", "urgency"} <= set(properties)


def test_a_site_no_service_covers_is_400(tmp_path, fhirjs_checked_bodies):
    import shutil

    from adapter import create_app
    from adapter.auth import mint_dev_token
    from adapter.settings import REPO_ROOT, Settings

    directory = tmp_path / "directory"
    shutil.copytree(REPO_ROOT / "mappings" / "service-directory", directory)
    (directory / "Location-custody-newtown.json").write_text(
        '{"resourceType": "Location", "id": "custody-newtown", "name": "Newtown custody suite"}'
    )
    settings = Settings(home=tmp_path, directory_path=directory)
    app = create_app(settings)
    headers = {"Authorization": f"Bearer {mint_dev_token(settings, ['system/*.cruds'])}"}
    response = app.test_client().post(
        "/api/referrals", json=referral(site="custody-newtown"), headers=headers
    )
    assert response.status_code == 400
    assert expressions(response) == ["site"]
    app.extensions["ld_adapter"].store.dispose()


def test_openapi_document_describes_assessments(client):
    from openapi_spec_validator import validate

    document = client.get("/api/openapi.json").get_json()
    validate(document)  # raises on any departure from OpenAPI 3
    assert "/api/referrals/{referral_id}/assessments" in document["paths"]
    assert "put" in document["paths"]["/api/assessments/{assessment_id}"]
    properties = document["components"]["schemas"]["Assessment"]["properties"]
    assert {"kind", "questionnaire", "answers", "practitioner"} <= set(properties)


def test_a_referrer_organisation_without_ods_code_is_stored_once(client, auth):
    body = referral()
    del body["referrer"]["organisation_ods"]
    first = post(client, auth, body).get_json()
    second = post(client, auth, referral(local_id="L-2", referrer=body["referrer"])).get_json()
    assert first["fhir"]["referrer_organization"] == second["fhir"]["referrer_organization"]
    organizations = client.get("/fhir/Organization?_count=100", headers=auth).get_json()
    named = [
        e["resource"]
        for e in organizations["entry"]
        if e["resource"].get("name") == "West Mercia Police"
    ]
    assert len(named) == 1


def test_openapi_lists_the_allowed_codes(client):
    properties = client.get("/api/openapi.json").get_json()["components"]["schemas"]["Referral"][
        "properties"
    ]
    assert "E1" in properties["source"]["enum"]
    assert properties["urgency"]["enum"] == ["routine", "urgent", "asap", "stat"]
    assert properties["local_id"]["maxLength"] == 64
