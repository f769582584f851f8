"""The operators' outbox API: list by status, read (body only when asked and allowed), replay."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from adapter.exchange.model import DEAD_LETTER, DELIVERED
from adapter.store import Store
from tests.support.outbox import message, store_onward_referral, withdraw_consent

OUTCOME = {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "invalid"}]}


def store_of(app: Flask) -> Store:
    return app.extensions["ld_adapter"].store


def queue(app: Flask, count: int) -> list[str]:
    with store_of(app).unit_of_work() as uow:
        return [uow.outbox.add(message(ordering_key=f"k{i}")).id for i in range(count)]


def settle(app: Flask, message_id: str, status: str, **values: object) -> None:
    """Play a worker: claim the message and record a final status."""
    first = message()
    with store_of(app).unit_of_work() as uow:
        claimed = uow.outbox.claim("w", first.created_at, first.expires_at, 100)  # type: ignore[arg-type]
        assert message_id in [m.id for m in claimed]
        uow.outbox.release([m.id for m in claimed if m.id != message_id], "w")
        assert uow.outbox.finish(message_id, "w", {"status": status, **values})


def test_lists_messages_by_status_newest_first_with_paging(client: FlaskClient, app, auth) -> None:  # type: ignore[no-untyped-def]
    ids = queue(app, 3)
    settle(app, ids[0], DEAD_LETTER, last_status_code=400, partner_outcome=OUTCOME)
    page = client.get("/api/messages?status=queued&limit=1", headers=auth)
    assert page.status_code == 200
    body = page.get_json()
    assert body["total"] == 2 and [m["id"] for m in body["items"]] == [ids[2]]
    assert body["links"]["next"] == "/api/messages?status=queued&limit=1&offset=1"
    dead = client.get("/api/messages?status=dead-letter", headers=auth).get_json()
    (item,) = dead["items"]
    assert (item["id"], item["status"], item["partner_outcome"]) == (ids[0], DEAD_LETTER, OUTCOME)
    assert "body" not in item and item["endpoint"] == "Endpoint/partner-endpoint"
    assert client.get("/api/messages", headers=auth).get_json()["total"] == 3


def test_a_bad_status_or_parameter_is_a_400_naming_it(client: FlaskClient, auth) -> None:  # type: ignore[no-untyped-def]
    answer = client.get("/api/messages?status=lost&colour=red&limit=0", headers=auth)
    assert answer.status_code == 400
    named = {i["expression"][0] for i in answer.get_json()["issue"]}
    assert named == {"status", "colour", "limit"}


def test_reading_a_message_shows_its_body_only_when_asked_and_allowed(
    client: FlaskClient, app, token
) -> None:  # type: ignore[no-untyped-def]
    (sent,) = queue(app, 1)
    bundle_only = {"Authorization": f"Bearer {token('system/Bundle.r')}"}
    record = client.get(f"/api/messages/{sent}", headers=bundle_only)
    assert record.status_code == 200 and "body" not in record.get_json()
    refused = client.get(f"/api/messages/{sent}?include=body", headers=bundle_only)
    assert refused.status_code == 403
    assert any("Patient" in i["diagnostics"] for i in refused.get_json()["issue"])
    allowed = {"Authorization": f"Bearer {token('system/Bundle.r', 'system/*.r')}"}
    shown = client.get(f"/api/messages/{sent}?include=body", headers=allowed).get_json()
    assert shown["body"]["id"] == sent and shown["body"]["type"] == "message"
    assert client.get("/api/messages/nope", headers=allowed).status_code == 404


def test_listing_needs_bundle_search_and_replay_bundle_update(
    client: FlaskClient, app, token
) -> None:  # type: ignore[no-untyped-def]
    (sent,) = queue(app, 1)
    read_only = {"Authorization": f"Bearer {token('system/Bundle.r')}"}
    assert client.get("/api/messages", headers=read_only).status_code == 403
    assert client.post(f"/api/messages/{sent}/replay", headers=read_only).status_code == 403


def test_replay_requeues_a_dead_letter_and_refuses_anything_else(
    client: FlaskClient, app, token
) -> None:  # type: ignore[no-untyped-def]
    dead, delivered = queue(app, 2)
    settle(app, dead, DEAD_LETTER, attempts=4)
    settle(app, delivered, DELIVERED)
    replay = {"Authorization": f"Bearer {token('system/Bundle.u')}"}
    answer = client.post(f"/api/messages/{dead}/replay", headers=replay)
    assert answer.status_code == 200
    assert (answer.get_json()["status"], answer.get_json()["attempts"]) == ("queued", 0)
    again = client.post(f"/api/messages/{dead}/replay", headers=replay)
    assert again.status_code == 409
    assert client.post(f"/api/messages/{delivered}/replay", headers=replay).status_code == 409
    assert client.post("/api/messages/nope/replay", headers=replay).status_code == 404


def test_the_openapi_document_describes_the_message_endpoints(client: FlaskClient) -> None:
    from openapi_spec_validator import validate

    document = client.get("/api/openapi.json").get_json()
    validate(document)
    assert "post" in document["paths"]["/api/messages/{message_id}/replay"]
    assert (
        "system/Bundle.u"
        in document["paths"]["/api/messages/{message_id}/replay"]["post"]["description"]
    )


def test_reading_a_body_is_audited_as_a_read_of_the_person(client: FlaskClient, app, auth) -> None:  # type: ignore[no-untyped-def]
    from tests.integration.test_audit import audits, references, summary

    (sent,) = queue(app, 1)
    client.get(f"/api/messages/{sent}", headers=auth)
    client.get(f"/api/messages/{sent}?include=body", headers=auth)
    without, with_body = audits(app)[-2:]
    assert summary(with_body) == ("read", "R", "0")
    assert "Patient/p1" in references(with_body) and "Patient/p1" not in references(without)
    what = [e["what"].get("identifier", {}).get("value") for e in with_body["entity"]]
    assert sent in what


# A partner's diagnostics (and details.text) can name the person.
NAMING = {
    "resourceType": "OperationOutcome",
    "issue": [
        {
            "severity": "error",
            "code": "invalid",
            "details": {"coding": [{"system": "urn:x", "code": "no-match"}], "text": "Jo Bloggs"},
            "diagnostics": "No patient Jo Bloggs born 1990-01-01",
            "expression": ["Patient.name"],
        }
    ],
}


def test_the_partner_s_free_text_is_shown_only_with_the_body(
    client: FlaskClient, app, auth
) -> None:  # type: ignore[no-untyped-def]
    (dead,) = queue(app, 1)
    settle(app, dead, DEAD_LETTER, last_status_code=422, partner_outcome=NAMING)
    listed = client.get("/api/messages?status=dead-letter", headers=auth).get_json()["items"][0]
    record = client.get(f"/api/messages/{dead}", headers=auth).get_json()
    for shown in (listed, record):
        assert "Bloggs" not in str(shown) and shown["next_attempt_at"] is None
        assert shown["partner_outcome"]["issue"] == [
            {
                "severity": "error",
                "code": "invalid",
                "details": {"coding": [{"system": "urn:x", "code": "no-match"}]},
                "expression": ["Patient.name"],
            }
        ]
    full = client.get(f"/api/messages/{dead}?include=body", headers=auth).get_json()
    assert full["partner_outcome"] == NAMING


def test_a_replayed_message_starts_afresh(client: FlaskClient, app, auth) -> None:  # type: ignore[no-untyped-def]
    (dead,) = queue(app, 1)
    settle(
        app, dead, DEAD_LETTER, last_status_code=422, last_error="HTTP 422", partner_outcome=NAMING
    )
    replayed = client.post(f"/api/messages/{dead}/replay", headers=auth).get_json()
    assert (replayed["status"], replayed["next_attempt_at"] is not None) == ("queued", True)
    assert (replayed["last_error"], replayed["partner_outcome"]) == (None, None)


def test_replay_refuses_a_referral_message_whose_consent_was_withdrawn(
    client: FlaskClient, app, auth
) -> None:  # type: ignore[no-untyped-def]
    store = store_of(app)
    store_onward_referral(store, "http://127.0.0.1:9/fhir")
    with store.unit_of_work() as uow:
        dead = uow.outbox.add(message(onward_referral_id="o1")).id
    settle(app, dead, DEAD_LETTER, last_status_code=503)
    withdraw_consent(store)
    refused = client.post(f"/api/messages/{dead}/replay", headers=auth)
    assert refused.status_code == 409
    assert "consent no longer permits sending" in refused.get_json()["issue"][0]["diagnostics"]
    assert client.get(f"/api/messages/{dead}", headers=auth).get_json()["status"] == DEAD_LETTER


def test_reading_or_replaying_an_unknown_message_is_a_documented_404(client: FlaskClient) -> None:
    paths = client.get("/api/openapi.json").get_json()["paths"]
    assert "404" in paths["/api/messages/{message_id}"]["get"]["responses"]
    assert "404" in paths["/api/messages/{message_id}/replay"]["post"]["responses"]
