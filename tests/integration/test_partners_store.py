"""Partners loaded at start-up: stored, served and searchable under /fhir, found by service id."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from adapter import create_app
from adapter.cli import main
from adapter.exchange.partners import PartnerBundleError, partner_for_service
from adapter.settings import Settings, SettingsError
from tests.integration.store_fixtures import *  # noqa: F403  (the store fixtures)

ROOT = Path(__file__).resolve().parents[2]
LOCAL = ROOT / "fixtures" / "partners" / "local-partners.json"
ODS = "https://fhir.nhs.uk/Id/ods-organization-code"
FHIR_MSG = "http://terminology.hl7.org/CodeSystem/endpoint-connection-type|hl7-fhir-msg"


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    """The app with the loopback partners, on SQLite and on PostgreSQL."""
    return Settings(
        home=tmp_path, base_url="http://testserver", database_url=database_url, partners_path=LOCAL
    )


def found(client: FlaskClient, auth: dict, query: str) -> list[str]:
    response = client.get(query, headers=auth)
    assert response.status_code == 200, response.get_json()
    return sorted(e["resource"]["id"] for e in response.get_json().get("entry", []))


def test_partner_endpoints_are_searchable(client: FlaskClient, auth: dict) -> None:
    assert found(client, auth, f"/fhir/Endpoint?organization:identifier={ODS}|RXT") == [
        "bsmhft-fhir-msg"
    ]
    assert found(client, auth, "/fhir/Endpoint?organization=Organization/mpft") == [
        "mpft-fhir-msg",
        "mpft-ld-fhir-msg",
    ]
    assert len(found(client, auth, f"/fhir/Endpoint?connection-type={FHIR_MSG}&status=active")) == 9
    assert found(client, auth, "/fhir/Endpoint?name=example%20council") == [
        "example-council-fhir-msg"
    ]
    assert found(client, auth, "/fhir/Endpoint?status=off") == []


def test_partner_services_are_served_like_the_directory(client: FlaskClient, auth: dict) -> None:
    service = client.get("/fhir/HealthcareService/bsmhft-ld-home-area", headers=auth).get_json()
    assert service["endpoint"] == [{"reference": "Endpoint/bsmhft-fhir-msg"}]
    assert client.get("/fhir/HealthcareService/bsmhft-cjld", headers=auth).status_code == 200


def test_partners_alone_are_listed_by_pathway_and_recipient_type(
    client: FlaskClient, auth: dict
) -> None:
    pathways = "https://ld-adapter.github.io/fhir/CodeSystem/ld-onward-referral"
    recipients = "https://ld-adapter.github.io/fhir/CodeSystem/ld-recipient-type"
    everything = found(client, auth, "/fhir/HealthcareService?_count=100")
    assert "bsmhft-cjld" in everything  # the directory's own services are HealthcareServices too
    assert found(client, auth, f"/fhir/HealthcareService?service-type={pathways}|crisis-team") == [
        "bsmhft-home-treatment",
        "mpft-crisis-resolution-home-treatment",
    ]
    partners = found(client, auth, f"/fhir/HealthcareService?service-type={pathways}|")
    bundle = json.loads(LOCAL.read_text())["entry"]
    assert partners == sorted(
        e["resource"]["id"] for e in bundle if e["resource"]["resourceType"] == "HealthcareService"
    )
    justice = f"/fhir/HealthcareService?service-category={recipients}|criminal-justice"
    assert found(client, auth, justice) == ["example-probation-court-team"]
    by_ods = f"/fhir/HealthcareService?organization:identifier={ODS}|YEX03&active=true"
    assert found(client, auth, by_ods) == [
        "example-council-adult-safeguarding",
        "example-council-childrens-social-care",
    ]


def test_the_metadata_lists_endpoint_and_task(client: FlaskClient) -> None:
    statement = client.get("/fhir/metadata").get_json()
    types = {r["type"]: r for r in statement["rest"][0]["resource"]}
    assert {p["name"] for p in types["Endpoint"]["searchParam"]} >= {
        "identifier",
        "status",
        "connection-type",
        "organization",
        "name",
    }
    assert {p["name"] for p in types["HealthcareService"]["searchParam"]} >= {
        "service-type",
        "service-category",
        "organization",
        "active",
    }
    assert {p["name"] for p in types["Task"]["searchParam"]} >= {
        "business-status",
        "focus",
        "owner",
        "patient",
        "authored-on",
        "code",
    }


def test_tasks_are_searchable_by_what_tracks_an_onward_referral(
    app: Flask, client: FlaskClient, auth: dict
) -> None:
    task = {
        "resourceType": "Task",
        "id": "t1",
        "status": "requested",
        "intent": "order",
        "businessStatus": {"coding": [{"system": "urn:example:delivery", "code": "queued"}]},
        "focus": {"reference": "ServiceRequest/sr1"},
        "for": {"reference": "Patient/p1"},
        "owner": {"reference": "HealthcareService/bsmhft-ld-home-area"},
        "authoredOn": "2026-12-01T10:00:00Z",
    }
    with app.extensions["ld_adapter"].store.unit_of_work() as uow:
        uow.resources.create(task)
    for query in (
        "business-status=queued",
        "focus=ServiceRequest/sr1",
        "owner=HealthcareService/bsmhft-ld-home-area",
        "patient=p1",
        "authored-on=2026-12-01",
    ):
        assert found(client, auth, f"/fhir/Task?{query}") == ["t1"], query
    assert found(client, auth, "/fhir/Task?business-status=delivered") == []


def test_partner_for_service_reads_the_store(app: Flask) -> None:
    with app.extensions["ld_adapter"].store.unit_of_work() as uow:
        home_area = partner_for_service(uow, "bsmhft-ld-home-area")
        assert home_area is not None
        assert (home_area.ods_code, home_area.recipient_type) == ("RXT", "home-area-ld")
        assert home_area.endpoint["address"] == "http://127.0.0.1:8091/fhir"
        assert home_area.organization["id"] == "bsmhft"  # from the service directory
        assert partner_for_service(uow, "bsmhft-cjld") is None  # a directory service: no Endpoint
        assert partner_for_service(uow, "nobody") is None
        endpoint = uow.resources.read("Endpoint", "bsmhft-fhir-msg")
        uow.resources.update({**endpoint, "status": "suspended"})
        assert partner_for_service(uow, "bsmhft-ld-home-area") is None


def test_restarting_does_not_make_new_versions(app: Flask, settings: Settings) -> None:
    again = create_app(settings)
    with again.extensions["ld_adapter"].store.unit_of_work() as uow:
        assert uow.resources.read("Endpoint", "mpft-fhir-msg")["meta"]["versionId"] == "1"
    again.extensions["ld_adapter"].store.dispose()


def _bad_bundle(tmp_path: Path) -> Path:
    bundle = json.loads(LOCAL.read_text())
    bundle["entry"][0]["resource"]["address"] = "ftp://files.example.org"
    path = tmp_path / "bad-partners.json"
    path.write_text(json.dumps(bundle))
    return path


def test_a_bad_bundle_stops_the_app_naming_the_entry(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, partners_path=_bad_bundle(tmp_path))
    with pytest.raises(PartnerBundleError, match=r"Bundle.entry\[0\] \(Endpoint/mpft-fhir-msg\)"):
        create_app(settings)


def test_migrate_reports_a_bad_bundle_without_a_traceback(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("LD_ADAPTER_HOME", str(tmp_path))
    monkeypatch.setenv("LD_ADAPTER_PARTNERS", str(_bad_bundle(tmp_path)))
    result = CliRunner().invoke(main, ["migrate"])
    assert result.exit_code == 1
    assert "Bundle.entry[0] (Endpoint/mpft-fhir-msg)" in result.output
    assert "Traceback" not in result.output


def test_an_ods_code_outside_the_directory_stops_the_app_when_there_are_partners(
    tmp_path: Path,
) -> None:
    settings = Settings(home=tmp_path, partners_path=LOCAL, ods_code="RXT")
    create_app(settings).extensions["ld_adapter"].store.dispose()  # BSMHFT is in the directory
    with pytest.raises(SettingsError) as refused:
        create_app(replace(settings, ods_code="X99"))
    assert str(refused.value) == (
        "LD_ADAPTER_ODS_CODE X99 names no Organization in the service directory, so onward "
        "referrals to partners (LD_ADAPTER_PARTNERS) could not say who sends them; the service "
        "directory's trusts are RRE, RXT"
    )
    with pytest.raises(SettingsError, match=r"no service directory is loaded"):
        create_app(replace(settings, load_directory=False))
    without_partners = replace(settings, ods_code="X99", partners_path=None)
    create_app(without_partners).extensions["ld_adapter"].store.dispose()


def test_migrate_reports_a_wrong_ods_code_without_a_traceback(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("LD_ADAPTER_HOME", str(tmp_path))
    monkeypatch.setenv("LD_ADAPTER_PARTNERS", str(LOCAL))
    monkeypatch.setenv("LD_ADAPTER_ODS_CODE", "X99")
    result = CliRunner().invoke(main, ["migrate"])
    assert result.exit_code == 1
    assert "Error: LD_ADAPTER_ODS_CODE X99 names no Organization" in result.output
    assert "Traceback" not in result.output


def test_serve_on_another_port_moves_where_partners_reply(tmp_path: Path, monkeypatch) -> None:
    import adapter.server

    served: list[Settings] = []
    monkeypatch.setattr(adapter.server, "run", lambda settings, *_: served.append(settings))
    monkeypatch.setenv("LD_ADAPTER_HOME", str(tmp_path))
    monkeypatch.delenv("LD_ADAPTER_BASE_URL", raising=False)
    monkeypatch.delenv("LD_ADAPTER_SOURCE_ENDPOINT", raising=False)
    assert CliRunner().invoke(main, ["serve", "--port", "9090"]).exit_code == 0
    assert served[0].source_endpoint == "http://127.0.0.1:9090/fhir"
    monkeypatch.setenv("LD_ADAPTER_SOURCE_ENDPOINT", "https://ld.example.org/bars")
    assert CliRunner().invoke(main, ["serve", "--port", "9090"]).exit_code == 0
    assert served[1].source_endpoint == "https://ld.example.org/bars"


def test_a_bundle_may_not_restate_a_directory_resource(tmp_path: Path) -> None:
    # The two would overwrite each other at every start, and a worker starting in between would
    # read the directory's copy: without the partner's OAuth client id, its messages get 403.
    bundle = json.loads(LOCAL.read_text(encoding="utf-8"))
    mpft = json.loads((ROOT / "mappings/service-directory/Organization-mpft.json").read_text())
    bundle["entry"].append({"resource": mpft})
    path = tmp_path / "partners.json"
    path.write_text(json.dumps(bundle), encoding="utf-8")
    with pytest.raises(PartnerBundleError, match="Organization/mpft: the service directory"):
        create_app(Settings(home=tmp_path, partners_path=path))
