"""Scopes are honoured exactly: never widened, native API as strict as FHIR, short-lived tokens."""

from __future__ import annotations

import time

import jwt
import pytest

from adapter.auth import ensure_dev_key
from adapter.settings import Settings
from tests.integration.test_native_api import REFERRAL

NHS_NUMBER = "https://fhir.nhs.uk/Id/nhs-number|9990012342"
ALL_READS = [f"system/{t}.rs" for t in ("Patient", "Encounter", "Consent", "Organization")]


def bearer(token, *scopes: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {"Authorization": f"Bearer {token(*scopes)}"}


def diagnostics(response) -> str:  # type: ignore[no-untyped-def]
    return " ".join(issue["diagnostics"] for issue in response.get_json()["issue"])


@pytest.fixture
def stored(client, auth) -> dict:  # type: ignore[no-untyped-def]
    """One referral stored, as the native API returned it."""
    response = client.post("/api/referrals", json=REFERRAL, headers=auth)
    assert response.status_code == 201
    return response.get_json()


@pytest.mark.parametrize(
    "path", ["/fhir/Patient", f"/fhir/Patient?identifier={NHS_NUMBER}", "/fhir/Patient/{id}"]
)
def test_a_restricted_scope_is_refused_not_widened(client, token, stored, path):
    restricted = f"system/Patient.rs?identifier={NHS_NUMBER}"
    url = path.format(id=stored["fhir"]["patient"].split("/")[-1])
    response = client.get(url, headers=bearer(token, restricted))
    assert response.status_code == 403
    assert "does not apply scope restrictions" in diagnostics(response)


def test_an_unrestricted_scope_beside_a_restricted_one_still_works(client, token, stored):
    headers = bearer(token, f"system/Patient.rs?identifier={NHS_NUMBER}", "system/Patient.rs")
    response = client.get("/fhir/Patient", headers=headers)
    assert response.status_code == 200
    assert response.get_json()["total"] == 1


def test_a_restricted_scope_does_not_let_patients_be_included(client, token, stored):
    headers = bearer(
        token, "system/ServiceRequest.rs", f"system/Patient.rs?identifier={NHS_NUMBER}"
    )
    response = client.get("/fhir/ServiceRequest?_include=ServiceRequest:patient", headers=headers)
    assert response.status_code == 200
    types = [e["resource"]["resourceType"] for e in response.get_json()["entry"]]
    assert "Patient" not in types


def test_reading_a_referral_record_needs_patient_read(client, token, stored):
    path = f"/api/referrals/{stored['id']}"
    response = client.get(path, headers=bearer(token, "system/ServiceRequest.rs"))
    assert response.status_code == 403
    assert "system/Patient.r" in diagnostics(response)
    assert "9990012342" not in response.get_data(as_text=True)
    allowed = bearer(token, "system/ServiceRequest.rs", *ALL_READS)
    assert client.get(path, headers=allowed).status_code == 200


def test_listing_referral_records_needs_patient_read(client, token, stored):
    response = client.get("/api/referrals", headers=bearer(token, "system/ServiceRequest.rs"))
    assert response.status_code == 403
    assert "Example" not in response.get_data(as_text=True)


def test_creating_a_referral_needs_the_create_scope_of_everything_it_writes(client, token):
    response = client.post(
        "/api/referrals", json=REFERRAL, headers=bearer(token, "system/ServiceRequest.c")
    )
    assert response.status_code == 403
    text = diagnostics(response)
    for scope in ("Patient.c", "Encounter.c", "Consent.c", "Organization.c", "Patient.u"):
        assert f"system/{scope}" in text
    everything = bearer(
        token,
        *(f"system/{t}.c" for t in ("ServiceRequest", "Encounter")),
        "system/Patient.cu",
        "system/Consent.c",
        "system/Organization.c",
    )
    assert client.post("/api/referrals", json=REFERRAL, headers=everything).status_code == 201


def test_recording_an_assessment_needs_the_scopes_of_what_it_writes(client, token, stored):
    path = f"/api/referrals/{stored['id']}/assessments"
    response = client.post(path, json={}, headers=bearer(token, "system/QuestionnaireResponse.c"))
    assert response.status_code == 403
    assert "system/Flag.c" in diagnostics(response)


def test_openapi_documents_the_scopes_of_each_operation(client):
    paths = client.get("/api/openapi.json").get_json()["paths"]
    create = paths["/api/referrals"]["post"]["description"]
    assert "system/Patient.cu" in create and "system/Organization.c" in create
    assert "system/Patient.r" in paths["/api/referrals/{record_id}"]["get"]["description"]


def _signed(settings: Settings, **claims: object) -> dict[str, str]:
    assert settings.jwt_signing_key_file is not None
    key = ensure_dev_key(settings.jwt_signing_key_file)
    token = jwt.encode({"scope": "system/*.cruds", **claims}, key, algorithm="HS256")
    return {"Authorization": f"Bearer {token}"}


def test_a_token_living_for_centuries_is_401(client, settings):
    year_3000 = 32_503_680_000
    for claims in ({"exp": year_3000}, {"exp": year_3000, "iat": int(time.time())}):
        response = client.get("/fhir/Location", headers=_signed(settings, **claims))
        assert response.status_code == 401
        assert "3600 seconds" in diagnostics(response)


def test_token_lifetime_is_exp_minus_iat_up_to_the_configured_maximum(tmp_path):
    from adapter import create_app

    settings = Settings(home=tmp_path, max_token_lifetime=7200, load_directory=False)
    app = create_app(settings)
    client = app.test_client()
    now = int(time.time())
    ok = _signed(settings, iat=now - 7000, exp=now + 200)
    too_long = _signed(settings, iat=now - 100, exp=now + 7200)
    assert client.get("/fhir/Location", headers=ok).status_code == 200
    assert client.get("/fhir/Location", headers=too_long).status_code == 401
    app.extensions["ld_adapter"].store.dispose()
