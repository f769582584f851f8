"""FHIR search over HTTP: every supported parameter, paging, _include, strictness, bad values."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, example, given
from hypothesis import settings as settings_
from hypothesis import strategies as st

from adapter.settings import Settings
from tests.integration.store_fixtures import *  # noqa: F403  (the store fixtures)
from tests.integration.store_fixtures import LOCAL, NHS, seed


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    """The shared app fixture, on SQLite and on PostgreSQL."""
    return Settings(home=tmp_path, base_url="http://testserver", database_url=database_url)


@pytest.fixture
def seeded(app: Flask) -> Flask:
    seed(app.extensions["ld_adapter"].store)
    return app


def ids(client: FlaskClient, auth: dict, query: str) -> set[str]:
    response = client.get(query, headers=auth)
    assert response.status_code == 200, response.get_json()
    bundle = response.get_json()
    matches = [e for e in bundle["entry"] if e["search"]["mode"] == "match"]
    assert bundle["total"] == len(matches)
    return {e["resource"]["id"] for e in matches}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", {"s1", "s2", "s3", "s4"}),
        ("patient=p1", {"s1", "s2"}),
        ("patient=Patient/p2", {"s3"}),
        ("patient=http://testserver/fhir/Patient/p2", {"s3"}),
        ("subject=Patient/p1", {"s1", "s2"}),
        ("subject:Patient=p2", {"s3"}),
        ("patient=p1,p2", {"s1", "s2", "s3"}),
        (f"patient:identifier={NHS}|9990012342", {"s1", "s2"}),
        (f"subject:identifier={NHS}|9990024685", {"s3"}),
        (f"patient:identifier={NHS}|9990037027", {"s4"}),
        (f"patient:identifier={NHS}|9000000009", set()),
        ("status=active", {"s1", "s3"}),
        ("status=active,draft", {"s1", "s3", "s4"}),
        ("status=active&patient=p1", {"s1"}),
        (f"identifier={LOCAL}|L-s2", {"s2"}),
        ("identifier=L-s3", {"s3"}),
        ("identifier=other-system|L-s3", set()),
        ("_id=s1,s4", {"s1", "s4"}),
        ("authored=2026-11-20", {"s1"}),
        ("authored=2026-11", {"s1", "s2"}),
        ("authored=2026-11-22", {"s2"}),
        ("authored=eq2026", {"s1", "s2", "s3"}),
        ("authored=ne2026", {"s4"}),
        ("authored=lt2026-10-02", {"s3", "s4"}),
        ("authored=le2026-10-01", {"s3", "s4"}),
        ("authored=gt2026-10-01", {"s1", "s2"}),
        ("authored=ge2026-11-20T09:00", {"s1", "s2"}),
        ("authored=ge2026-11-20T10:00:00%2B01:00", {"s1", "s2"}),
        ("authored=gt2026-11-20T10:00:00%2B01:00", {"s2"}),
        ("authored=ge2026-10&authored=lt2026-11-21", {"s1", "s3"}),
        ("_lastUpdated=gt2000-01-01", {"s1", "s2", "s3", "s4"}),
        ("_lastUpdated=lt2000-01-01", set()),
    ],
)
def test_service_request_search(
    client: FlaskClient, seeded: Flask, auth: dict, query: str, expected: set
) -> None:
    assert ids(client, auth, f"/fhir/ServiceRequest?{query}") == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("family=smi", {"p1"}),
        ("family=SM", {"p1", "p2"}),
        ("family=smYthe", {"p2"}),
        ("family:contains=ON", {"p3"}),
        ("family=mith", set()),
        (f"identifier={NHS}|9990024685", {"p2"}),
        ("identifier=9000000009", {"p3"}),
        ("birthdate=1990", {"p1"}),
        ("birthdate=lt1990", {"p2"}),
        ("birthdate=ge1990-04-01", {"p1", "p3"}),
        ("_id=p3", {"p3"}),
    ],
)
def test_patient_search(
    client: FlaskClient, seeded: Flask, auth: dict, query: str, expected: set
) -> None:
    assert ids(client, auth, f"/fhir/Patient?{query}") == expected


def test_other_types_search_by_id(client: FlaskClient, auth: dict) -> None:
    assert ids(client, auth, "/fhir/Location?_id=custody-telford") == {"custody-telford"}
    assert ids(client, auth, "/fhir/Organization?_id=mpft,bsmhft") == {"mpft", "bsmhft"}
    assert ids(client, auth, "/fhir/Encounter") == set()


def test_searchset_shape(client: FlaskClient, seeded: Flask, auth: dict) -> None:
    bundle = client.get("/fhir/ServiceRequest?status=active", headers=auth).get_json()
    assert bundle["resourceType"] == "Bundle" and bundle["type"] == "searchset"
    assert bundle["total"] == 2
    entry = bundle["entry"][0]
    assert entry["fullUrl"] == f"http://testserver/fhir/ServiceRequest/{entry['resource']['id']}"
    assert entry["search"] == {"mode": "match"}


def test_paging_links_walk_every_result_once(
    client: FlaskClient, seeded: Flask, auth: dict
) -> None:
    seen: list[str] = []
    url: str | None = "/fhir/ServiceRequest?_count=3&status=active,completed,draft"
    pages = 0
    while url:
        bundle = client.get(url, headers=auth).get_json()
        assert bundle["total"] == 4
        seen += [e["resource"]["id"] for e in bundle["entry"]]
        links = {link["relation"]: link["url"] for link in bundle["link"]}
        assert links["self"].startswith("http://testserver/fhir/ServiceRequest?")
        assert ("status", "active,completed,draft") in parse_qsl(urlsplit(links["self"]).query)
        if pages:
            assert "previous" in links
        url = links.get("next")
        pages += 1
    assert pages == 2
    assert sorted(seen) == ["s1", "s2", "s3", "s4"]


def test_count_is_capped_and_zero_gives_only_the_total(
    client: FlaskClient, seeded: Flask, auth: dict
) -> None:
    bundle = client.get("/fhir/ServiceRequest?_count=0", headers=auth).get_json()
    assert bundle["total"] == 4 and bundle["entry"] == []
    capped = client.get("/fhir/Location?_count=1000", headers=auth).get_json()
    self_link = next(link["url"] for link in capped["link"] if link["relation"] == "self")
    assert "_count=100" in self_link


def test_default_page_is_20(client: FlaskClient, app: Flask, auth: dict) -> None:
    store = app.extensions["ld_adapter"].store
    with store.unit_of_work() as uow:
        for n in range(25):
            uow.resources.create(
                {"resourceType": "Encounter", "id": f"e{n}", "status": "planned", "class": {}}
            )
    bundle = client.get("/fhir/Encounter", headers=auth).get_json()
    assert bundle["total"] == 25 and len(bundle["entry"]) == 20


def test_include_patient(client: FlaskClient, seeded: Flask, auth: dict) -> None:
    bundle = client.get(
        "/fhir/ServiceRequest?status=active&_include=ServiceRequest:patient", headers=auth
    ).get_json()
    modes = {
        (e["search"]["mode"], e["resource"]["resourceType"], e["resource"]["id"])
        for e in bundle["entry"]
    }
    assert modes == {
        ("match", "ServiceRequest", "s1"),
        ("match", "ServiceRequest", "s3"),
        ("include", "Patient", "p1"),
        ("include", "Patient", "p2"),
    }
    assert bundle["total"] == 2


def test_include_needs_a_scope_on_the_included_type(
    client: FlaskClient, seeded: Flask, token
) -> None:  # type: ignore[no-untyped-def]
    headers = {"Authorization": f"Bearer {token('system/ServiceRequest.rs')}"}
    bundle = client.get(
        "/fhir/ServiceRequest?_include=ServiceRequest:patient", headers=headers
    ).get_json()
    assert {e["resource"]["resourceType"] for e in bundle["entry"]} == {
        "ServiceRequest",
        "OperationOutcome",
    }
    outcome = bundle["entry"][-1]
    assert outcome["search"]["mode"] == "outcome"
    assert outcome["resource"]["issue"][0]["severity"] == "warning"


def test_unknown_parameters_are_reported_or_refused(
    client: FlaskClient, seeded: Flask, auth: dict
) -> None:
    lenient = client.get("/fhir/ServiceRequest?colour=blue&status=active", headers=auth)
    assert lenient.status_code == 200
    bundle = lenient.get_json()
    assert bundle["total"] == 2
    outcome = bundle["entry"][-1]
    assert outcome["search"]["mode"] == "outcome"
    assert outcome["resource"]["issue"][0]["severity"] == "warning"
    assert outcome["resource"]["issue"][0]["expression"] == ["colour"]
    assert all("colour" not in link["url"] for link in bundle["link"])

    strict = client.get(
        "/fhir/ServiceRequest?colour=blue",
        headers={**auth, "Prefer": "return=minimal, handling=strict"},
    )
    assert strict.status_code == 400
    assert strict.get_json()["issue"][0]["expression"] == ["colour"]


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("authored=2026-13", "authored"),
        ("authored=xx2026", "authored"),
        ("_lastUpdated=yesterday", "_lastUpdated"),
        ("_count=lots", "_count"),
        ("_count=-5", "_count"),
        ("_include=ServiceRequest:performer", "_include"),
        ("status:missing=true", "status:missing"),
        ("patient=Patient/", "patient"),
        ("patient:identifier=,", "patient:identifier"),
        ("patient:identifier=", "patient:identifier"),
        ("status=active,", "status"),
        ("_id=,s1", "_id"),
        ("authored=", "authored"),
    ],
)
def test_bad_values_are_400_naming_the_parameter(
    client: FlaskClient, seeded: Flask, auth: dict, query: str, parameter: str
) -> None:
    response = client.get(f"/fhir/ServiceRequest?{query}", headers=auth)
    assert response.status_code == 400
    issue = response.get_json()["issue"][0]
    assert issue["expression"] == [parameter] and issue["severity"] == "error"


def test_post_search_with_a_form_body(client: FlaskClient, seeded: Flask, auth: dict) -> None:
    response = client.post(
        "/fhir/ServiceRequest/_search?status=active",
        data={"patient": "p1"},
        headers=auth,
    )
    assert response.status_code == 200
    assert {e["resource"]["id"] for e in response.get_json()["entry"]} == {"s1"}
    refused = client.post(
        "/fhir/ServiceRequest/_search",
        data=b'{"patient": "p1"}',
        headers={**auth, "Content-Type": "application/json"},
    )
    assert refused.status_code == 415


@pytest.mark.parametrize("query", ["family=a%00b", "identifier=%00", f"identifier={'9' * 3000}"])
def test_awkward_values_are_never_a_500(client: FlaskClient, auth: dict, query: str) -> None:
    assert client.get(f"/fhir/Patient?{query}", headers=auth).status_code in (200, 400)


@settings_(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(
                ["patient:identifier", "identifier", "status", "authored", "_id", "colour"]
            ),
            st.text(max_size=30),
        ),
        max_size=3,
    )
)
@example([("patient:identifier", ",")])  # once answered 200 with every ServiceRequest
def test_random_searches_are_never_a_500(
    client: FlaskClient, seeded: Flask, auth: dict, params: list[tuple[str, str]]
) -> None:
    response = client.get("/fhir/ServiceRequest", query_string=params, headers=auth)
    assert response.status_code in (200, 400)


def issue_text(response) -> str:  # type: ignore[no-untyped-def]
    return " ".join(issue["diagnostics"] for issue in response.get_json()["issue"])


@pytest.mark.parametrize(
    ("parameter", "value"),
    [
        ("status", ",".join(["active", "draft"] * 250)),
        ("_id", ",".join(f"id-{n}" for n in range(70_000))),
        ("identifier", ",".join(f"|L{n}" for n in range(70_000))),
        ("patient:identifier", ",".join(f"{NHS}|{n:010d}" for n in range(500))),
    ],
)
def test_too_many_values_are_a_400_naming_the_limit(
    client: FlaskClient, seeded: Flask, auth: dict, parameter: str, value: str
) -> None:
    response = client.post("/fhir/ServiceRequest/_search", data={parameter: value}, headers=auth)
    assert response.status_code == 400
    assert response.get_json()["issue"][0]["expression"] == [parameter]
    assert "at most 100 are allowed" in issue_text(response)


@pytest.mark.parametrize(
    ("parameter", "value"),
    [
        ("status", ",".join(["active", "draft"] * 50)),
        ("identifier", ",".join(f"{LOCAL}|L-s{n}" for n in range(100))),
        (
            "patient:identifier",
            ",".join(f"{NHS}|{n:010d}" for n in range(99)) + f",{NHS}|9990012342",
        ),
        ("_lastUpdated", ",".join(["gt2000-01-01"] * 100)),
    ],
)
def test_the_most_values_allowed_still_search(
    client: FlaskClient, seeded: Flask, auth: dict, parameter: str, value: str
) -> None:
    response = client.post("/fhir/ServiceRequest/_search", data={parameter: value}, headers=auth)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["total"] >= 1


def test_too_many_parameters_are_a_400_naming_the_limit(
    client: FlaskClient, seeded: Flask, auth: dict
) -> None:
    query = "&".join(["status=active"] * 31)
    response = client.get(f"/fhir/ServiceRequest?{query}", headers=auth)
    assert response.status_code == 400
    assert "at most 30 parameters" in issue_text(response)
    assert client.get(f"/fhir/ServiceRequest?{query[:-14]}", headers=auth).status_code == 200


def test_too_many_values_in_all_are_a_400_naming_the_limit(
    client: FlaskClient, seeded: Flask, auth: dict
) -> None:
    # 30 x 100 date values once took seconds just to build the SQL.
    dates = ",".join(["ge2026-01-01"] * 100)
    response = client.post(
        "/fhir/ServiceRequest/_search", data={"authored": [dates] * 4}, headers=auth
    )
    assert response.status_code == 400
    assert "at most 300 values in all" in issue_text(response)
    allowed = client.post(
        "/fhir/ServiceRequest/_search", data={"authored": [dates] * 3}, headers=auth
    )
    assert allowed.status_code == 200


def test_search_limits_are_settings(tmp_path: Path, fhirjs_checked_bodies: list) -> None:
    from adapter import create_app
    from adapter.auth import mint_dev_token

    settings = Settings(
        home=tmp_path, max_search_values=2, max_search_parameters=2, max_search_total_values=3
    )
    app = create_app(settings)
    client = app.test_client()
    auth = {"Authorization": f"Bearer {mint_dev_token(settings, ['system/*.rs'])}"}
    assert client.get("/fhir/Flag?status=active,inactive", headers=auth).status_code == 200
    assert client.get("/fhir/Flag?status=active,inactive,x", headers=auth).status_code == 400
    assert client.get("/fhir/Flag?status=active&_id=a&_id=b", headers=auth).status_code == 400
    assert client.get("/fhir/Flag?status=active,inactive&_id=a,b", headers=auth).status_code == 400
    app.extensions["ld_adapter"].store.dispose()


COMPARTMENT_TYPES = ("ServiceRequest", "Encounter", "Consent", "QuestionnaireResponse", "Flag")


def test_every_patient_compartment_type_advertises_patient_id_and_last_updated(
    client: FlaskClient,
) -> None:
    statement = client.get("/fhir/metadata").get_json()
    served = {r["type"]: r for r in statement["rest"][0]["resource"]}
    for resource_type in COMPARTMENT_TYPES:
        names = {p["name"] for p in served[resource_type]["searchParam"]}
        assert {"patient", "_id", "_lastUpdated"} <= names, resource_type


@pytest.mark.parametrize(
    ("resource_type", "field"), [("Encounter", "subject"), ("Consent", "patient")]
)
def test_patient_search_returns_only_that_patients_records(
    client: FlaskClient, seeded: Flask, auth: dict, resource_type: str, field: str
) -> None:
    store = seeded.extensions["ld_adapter"].store
    with store.unit_of_work() as uow:
        for n, patient in enumerate(["p1", "p2", "p1"]):
            uow.resources.create(_compartment_resource(resource_type, field, f"x{n}", patient))
    assert ids(client, auth, f"/fhir/{resource_type}?patient=p1") == {"x0", "x2"}
    assert ids(client, auth, f"/fhir/{resource_type}?patient=Patient/p2") == {"x1"}
    by_nhs = f"/fhir/{resource_type}?patient:identifier={NHS}|9990024685"
    assert ids(client, auth, by_nhs) == {"x1"}
    assert ids(client, auth, f"/fhir/{resource_type}?patient=p1&_id=x2,x1") == {"x2"}


def _compartment_resource(resource_type: str, field: str, id_: str, patient: str) -> dict:
    reference = {"reference": f"Patient/{patient}"}
    if resource_type == "Encounter":
        return {
            "resourceType": "Encounter",
            "id": id_,
            "status": "finished",
            "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
            field: reference,
        }
    return {
        "resourceType": "Consent",
        "id": id_,
        "status": "active",
        "scope": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/consentscope",
                    "code": "treatment",
                }
            ]
        },
        "category": [{"coding": [{"system": "http://loinc.org", "code": "59284-0"}]}],
        "policyRule": {
            "coding": [
                {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "OPTIN"}
            ]
        },
        field: reference,
    }
