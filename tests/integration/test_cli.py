"""The ld-adapter command: token minting and mapping a referral file."""

from __future__ import annotations

import json
from pathlib import Path

import jwt
import pytest
from click.testing import CliRunner

from adapter.cli import main

REFERRALS = Path(__file__).resolve().parents[2] / "fixtures" / "native" / "referrals"


@pytest.fixture
def runner(tmp_path, monkeypatch) -> CliRunner:
    monkeypatch.setenv("LD_ADAPTER_HOME", str(tmp_path))
    return CliRunner()


def test_token_is_accepted_by_the_service(runner, tmp_path, monkeypatch):
    from adapter import create_app
    from adapter.settings import Settings

    result = runner.invoke(main, ["token", "--scope", "system/ServiceRequest.rs"])
    assert result.exit_code == 0, result.output
    token = result.output.strip()
    assert (
        jwt.decode(token, options={"verify_signature": False})["scope"]
        == "system/ServiceRequest.rs"
    )

    app = create_app(Settings.from_env())
    headers = {"Authorization": f"Bearer {token}"}
    response = app.test_client().get("/fhir/ServiceRequest", headers=headers)
    assert response.status_code == 200
    app.extensions["ld_adapter"].store.dispose()


def test_token_rejects_a_malformed_scope(runner):
    result = runner.invoke(main, ["token", "--scope", "ServiceRequest.read"])
    assert result.exit_code == 2
    assert "system/<Type or *>" in result.output


def test_map_prints_a_bundle_that_fhirjs_accepts(runner, fhirjs):
    result = runner.invoke(main, ["map", str(REFERRALS / "adult-custody-telford.json")])
    assert result.exit_code == 0, result.output
    bundle = json.loads(result.output)
    assert bundle["resourceType"] == "Bundle"
    types = [entry["resource"]["resourceType"] for entry in bundle["entry"]]
    assert {"Patient", "ServiceRequest", "Encounter", "Consent"} <= set(types)
    assert fhirjs.validate(bundle) == []


def test_map_reports_bad_input_as_an_operation_outcome(runner, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"local_id": "x"}))
    result = runner.invoke(main, ["map", str(bad)])
    assert result.exit_code == 1
    outcome = json.loads(result.stderr)
    assert outcome["resourceType"] == "OperationOutcome"
    assert any("received_at" in issue.get("expression", []) for issue in outcome["issue"])


def test_reindex_makes_old_records_findable_by_new_search_parameters(runner, tmp_path):
    import orjson

    from adapter.search.definitions import PARAMETERS_FILE, SearchRegistry
    from adapter.search.query import ReferenceCriterion, SearchQuery
    from adapter.settings import Settings
    from adapter.store import Store
    from tests.integration.test_store_migrations import ENCOUNTER

    document = orjson.loads(PARAMETERS_FILE.read_bytes())
    document["resources"]["Encounter"] = []  # as before Encounter had `patient`
    old = Store.from_url(Settings.from_env().database_url, SearchRegistry(document))
    old.migrate()
    with old.unit_of_work() as uow:
        uow.resources.create(ENCOUNTER)
    old.dispose()
    query = SearchQuery("Encounter", (ReferenceCriterion("patient", (("Patient", "p1"),)),))
    store = Store.from_url(Settings.from_env().database_url)
    with store.unit_of_work(read_only=True) as uow:
        assert uow.resources.search("Encounter", query).total == 0

    result = runner.invoke(main, ["reindex"])
    assert result.exit_code == 0, result.output
    assert "reindexed" in result.output
    with store.unit_of_work(read_only=True) as uow:
        assert uow.resources.search("Encounter", query).total == 1
    store.dispose()


def test_token_refuses_a_lifetime_the_service_would_refuse(runner, monkeypatch):
    result = runner.invoke(main, ["token", "--lifetime", "7200"])
    assert result.exit_code == 2
    assert "LD_ADAPTER_MAX_TOKEN_LIFETIME" in result.output
    monkeypatch.setenv("LD_ADAPTER_MAX_TOKEN_LIFETIME", "7200")
    assert runner.invoke(main, ["token", "--lifetime", "7200"]).exit_code == 0
