"""Building AuditEvents (no I/O): BALP codes, entities by role, references only."""

from __future__ import annotations

from adapter.services.audit import Entity, Requestor, audit_event, entities_of, outcome_code

SERVER = "https://ld.example.org/fhir"
SERVICE_REQUEST = {
    "resourceType": "ServiceRequest",
    "id": "sr1",
    "meta": {"versionId": "3"},
    "subject": {"reference": "Patient/p1", "display": "Alex Example"},
}


def test_a_resource_about_a_patient_gives_a_data_and_a_patient_entity() -> None:
    patient = {"resourceType": "Patient", "id": "p1", "meta": {"versionId": "2"}}
    consent = {"resourceType": "Consent", "id": "c1", "patient": {"reference": "Patient/p1"}}
    assert entities_of([SERVICE_REQUEST, patient, consent]) == [
        Entity("ServiceRequest/sr1/_history/3"),
        Entity("Patient/p1"),
        Entity("Consent/c1"),
    ]


def test_an_event_holds_references_and_balp_codes_but_no_display_text() -> None:
    requestor = Requestor("client-a", "10.0.0.7", issuer="https://idp.example", token_id="t1")
    event = audit_event("read", "0", requestor, SERVER, entities_of([SERVICE_REQUEST]))
    assert event["type"]["code"] == "rest"
    assert event["subtype"] == [
        {"system": "http://hl7.org/fhir/restful-interaction", "code": "read"}
    ]
    assert (event["action"], event["outcome"]) == ("R", "0")
    client, server = event["agent"]
    assert client["who"]["identifier"] == {"system": "https://idp.example", "value": "client-a"}
    assert (client["requestor"], client["policy"], client["network"]["address"]) == (
        True,
        ["t1"],
        "10.0.0.7",
    )
    assert server["requestor"] is False and server["network"]["address"] == SERVER
    assert event["source"]["observer"]["identifier"]["value"] == SERVER
    roles = [(e["what"]["reference"], e["role"]["code"]) for e in event["entity"]]
    assert roles == [("ServiceRequest/sr1/_history/3", "4"), ("Patient/p1", "1")]
    assert "Alex" not in str(event)


def test_actions_and_outcomes_follow_the_interaction_and_status() -> None:
    nobody = Requestor(None)
    actions = {
        code: audit_event(code, "0", nobody, SERVER, [])["action"]
        for code in ("create", "update", "search-type", "operation", "vread")
    }
    assert actions == {
        "create": "C",
        "update": "U",
        "search-type": "E",
        "operation": "E",
        "vread": "R",
    }
    assert [outcome_code(s) for s in (200, 201, 304, 401, 404, 422, 500, 503)] == [
        "0", "0", "0", "4", "4", "4", "8", "8",
    ]  # fmt: skip
    anonymous = audit_event("read", "4", nobody, SERVER, [])
    assert anonymous["agent"][0]["who"] == {"display": "unauthenticated client"}
    assert "entity" not in anonymous
