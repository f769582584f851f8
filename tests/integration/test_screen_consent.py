"""A completed screen's consent answers become new versions of the referral's Consent resources."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from adapter.settings import Settings
from tests.integration.store_fixtures import *  # noqa: F403  (database_url: SQLite and PostgreSQL)

NATIVE = Path(__file__).resolve().parents[2] / "fixtures" / "native"
DECISION_URL = "ld-consent-decision"


@pytest.fixture
def settings(tmp_path, database_url) -> Settings:  # type: ignore[no-untyped-def]
    """Run every test here on SQLite and, when configured, on PostgreSQL."""
    return Settings(home=tmp_path, base_url="http://testserver", database_url=database_url)


def _fixture(name: str) -> dict:
    return json.loads((NATIVE / name).read_text())


@pytest.fixture
def consents(client, auth) -> tuple[str, dict[str, str]]:  # type: ignore[no-untyped-def]
    """A referral whose referrer recorded agreement to screening and to both kinds of sharing."""
    response = client.post(
        "/api/referrals", json=_fixture("referrals/adult-custody-telford.json"), headers=auth
    )
    assert response.status_code == 201
    record = response.get_json()
    by_scope = {}
    for reference in record["fhir"]["consents"]:
        consent = client.get(f"/fhir/{reference}", headers=auth).get_json()
        by_scope[_scope(consent)] = reference
    return record["id"], by_scope


def _scope(consent: dict) -> str:
    codes = [c["code"] for cat in consent["category"] for c in cat["coding"]]
    return next(c for c in codes if c in ("screening", "share-health", "share-criminal-justice"))


def _decision(consent: dict) -> str:
    return next(e for e in consent["extension"] if e["url"].endswith(DECISION_URL))["valueCoding"][
        "code"
    ]


def _recorder(consent: dict) -> str:
    recorder = next(e for e in consent["extension"] if e["url"].endswith("consent-recorder"))
    return next(part["valueString"] for part in recorder["extension"] if part["url"] == "name")


def _read(client, auth, reference: str) -> dict:  # type: ignore[no-untyped-def]
    response = client.get(f"/fhir/{reference}", headers=auth)
    assert response.status_code == 200
    return response.get_json()


def test_a_declined_screen_makes_the_screening_consent_a_deny(client, auth, consents):
    referral_id, by_scope = consents
    declined = _fixture("assessments/declines-screening-cannock-court.json")
    posted = client.post(f"/api/referrals/{referral_id}/assessments", json=declined, headers=auth)
    assert posted.status_code == 201

    screening = _read(client, auth, by_scope["screening"])
    assert screening["provision"]["type"] == "deny"
    assert _decision(screening) == "declined"
    assert screening["meta"]["versionId"] == "2"
    assert _recorder(screening) == "Jo Evans"
    assert screening["dateTime"].startswith("2026-11-24T10:00:00")
    history = client.get(f"/fhir/{by_scope['screening']}/_history", headers=auth).get_json()
    assert [e["resource"]["provision"]["type"] for e in history["entry"]] == ["deny", "permit"]
    # Sharing was not asked about once screening was declined: those decisions stand as they were.
    health = _read(client, auth, by_scope["share-health"])
    assert (_decision(health), _recorder(health)) == ("agreed", "Alex Morgan")


def test_amending_the_screen_back_to_agreement_permits_again_as_a_new_version(
    client, auth, consents
):
    referral_id, by_scope = consents
    declined = _fixture("assessments/declines-screening-cannock-court.json")
    posted = client.post(f"/api/referrals/{referral_id}/assessments", json=declined, headers=auth)
    assessment_id = posted.get_json()["id"]

    agreed = _fixture("assessments/adult-custody-telford.json")
    amended = client.put(f"/api/assessments/{assessment_id}", json=agreed, headers=auth)
    assert amended.status_code == 200, amended.get_json()

    screening = _read(client, auth, by_scope["screening"])
    assert (screening["provision"]["type"], screening["meta"]["versionId"]) == ("permit", "3")
    assert _recorder(screening) == "Alex Morgan"
    # The screen recorded limited sharing with criminal justice: a new 'limited' decision.
    justice = _read(client, auth, by_scope["share-criminal-justice"])
    assert (_decision(justice), justice["provision"]["type"]) == ("limited", "permit")
    assert justice["dateTime"].startswith("2026-11-24T10:40:00")
    # The screen's agreement to share with health matches the referral's: its record stands.
    health = _read(client, auth, by_scope["share-health"])
    assert health["dateTime"].startswith("2025-03-14T10:06:00")


def test_an_in_progress_screen_changes_no_consent(client, auth, consents):
    referral_id, by_scope = consents
    draft = _fixture("assessments/declines-screening-cannock-court.json")
    draft["status"] = "in-progress"
    del draft["ended_at"]
    posted = client.post(f"/api/referrals/{referral_id}/assessments", json=draft, headers=auth)
    assert posted.status_code == 201
    screening = _read(client, auth, by_scope["screening"])
    assert (screening["provision"]["type"], screening["meta"]["versionId"]) == ("permit", "1")


def test_the_native_referral_record_shows_the_latest_decision(client, auth, consents):
    referral_id, _ = consents
    declined = _fixture("assessments/declines-screening-cannock-court.json")
    client.post(f"/api/referrals/{referral_id}/assessments", json=declined, headers=auth)
    record = client.get(f"/api/referrals/{referral_id}", headers=auth).get_json()
    screening = next(c for c in record["referral"]["consents"] if c["scope"] == "screening")
    assert (screening["decision"], screening["recorded_by"]) == ("declined", "Jo Evans")
