"""GET /api/referrals/{id}/justice-report: a report for criminal justice, within consent.

Every test runs on SQLite and, when LD_ADAPTER_TEST_POSTGRES_URL is set, on PostgreSQL.
"""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from adapter.conformance import has_errors, validate
from adapter.settings import Settings
from adapter.store.tables import resource
from tests.integration.store_fixtures import database_url, postgres_url  # noqa: F401 - fixtures
from tests.support.partner_app import partner_app_settings
from tests.support.pdf_text import pdf_text

NATIVE = Path(__file__).resolve().parents[2] / "fixtures" / "native"
PRACTITIONER = {"name": "Alex Morgan", "role": "L&D practitioner (RMN)"}
NHS_NUMBER = "9990012342"
# The telford referral's person, as the report must print them.
NAME, BIRTH, CUSTODY_NUMBER = "Daniel James Hartley", "2 June 1988", "22TE/4417/25"
TELFORD_SERVICE = "Liaison and Diversion - Shropshire and Telford & Wrekin"


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:  # noqa: F811
    """Partners from the local bundle; nothing is delivered (no partner is ever called here)."""
    return partner_app_settings(tmp_path, "http://127.0.0.1:9/fhir", database_url)


def _fixture(name: str) -> dict:
    return json.loads((NATIVE / name).read_text(encoding="utf-8"))


def _referral(client: FlaskClient, auth: dict, payload: dict | None = None) -> str:
    body = payload or _fixture("referrals/adult-custody-telford.json")
    response = client.post("/api/referrals", json=body, headers=auth)
    assert response.status_code == 201, response.get_json()
    return str(response.get_json()["id"])


def _onward(client: FlaskClient, auth: dict, referral_id: str, pathway: str, to: str) -> dict:
    body = {"pathway": pathway, "to": to, "referred_by": PRACTITIONER}
    response = client.post(
        f"/api/referrals/{referral_id}/onward-referrals", json=body, headers=auth
    )
    assert response.status_code == 201, response.get_json()
    return dict(response.get_json())


def _report(client: FlaskClient, auth: dict, referral_id: str, query: str = "", **headers: str):  # type: ignore[no-untyped-def]
    url = f"/api/referrals/{referral_id}/justice-report{query}"
    return client.get(url, headers={**auth, **headers})


def _with_cj_consent(**changes: str) -> dict:
    """The telford referral with its share-criminal-justice decision changed (or removed)."""
    body = _fixture("referrals/adult-custody-telford.json")
    consents = [c for c in body["consents"] if c["scope"] != "share-criminal-justice"]
    if changes:
        cj = next(c for c in body["consents"] if c["scope"] == "share-criminal-justice")
        consents.append({**cj, **changes})
    return {**body, "consents": consents}


def _record_outcome(app: Flask, onward_id: str, status: str, at: str, *more: dict) -> None:
    """A partner's answer on an onward referral, as the response handler records it."""
    store = app.extensions["ld_adapter"].store
    with store.unit_of_work() as uow:
        record = uow.onward_referrals.get(onward_id)
        outcome = {"status": status, "reason": None, "at": at, "message_id": "m1"}
        uow.onward_referrals.update(replace(record, outcomes=[outcome, *more]), record.version)


def _itk_ack(status: str, at: str) -> dict:
    """An ITK3 acknowledgement from a GP practice, as services/gp_acks.py records it."""
    code = {"delivered": "20013", "filed": "30001"}[status]
    return {"status": status, "reason": None, "at": at, "message_id": "a1", "itk_code": code}


def _stored_documents(app: Flask) -> list[dict]:
    store = app.extensions["ld_adapter"].store
    with store.engine.connect() as connection:
        rows = connection.execute(
            sa.select(resource.c.content).where(resource.c.resource_type == "DocumentReference")
        ).scalars()
        return [orjson.loads(row) for row in rows]


def test_agreed_consent_gives_the_needs_support_and_adjustments_but_never_the_nhs_number(
    app: Flask, client: FlaskClient, auth: dict
) -> None:
    referral_id = _referral(client, auth)
    gp = _onward(client, auth, referral_id, "gp", "example-medical-practice-gp")
    _onward(client, auth, referral_id, "financial-advice", "example-advice-centre-support")
    _record_outcome(app, gp["id"], "booked", "2025-03-20T10:00:00+00:00")

    response = _report(client, auth, referral_id, "?recipient=court")

    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Cache-Control"] == "no-store"
    text = pdf_text(response.data)
    for expected in (
        TELFORD_SERVICE,
        "Phone: 01743 210080",
        "For: Court.",
        NAME,
        BIRTH,
        CUSTODY_NUMBER,
        "14 Wrekin View",  # agreed: the address too
        "Mental health",
        "Alcohol misuse",
        "Self-harm or suicide risk",
        "General practitioner (Example Medical Practice)",
        "latest: Booked (20 March 2025)",
        "appropriate adult",
        "Telford police custody suite",
        "OFFICIAL-SENSITIVE",
    ):
        assert expected in " ".join(text.split()), expected
    assert NHS_NUMBER not in text.replace(" ", "")
    assert "Debt or financial advice" not in text  # a pathway that would tell of debts
    assert "Assessed by" not in text  # no assessment recorded: nobody to name


def test_a_gp_practices_itk3_acknowledgements_print_as_delivery_states(
    app: Flask, client: FlaskClient, auth: dict
) -> None:
    """Acks record delivery states (delivered, filed), not ld-referral-outcome codes: no 500."""
    referral_id = _referral(client, auth)
    gp = _onward(client, auth, referral_id, "gp", "example-medical-practice-gp")
    filed = _itk_ack("filed", "2025-03-21T09:00:00+00:00")
    _record_outcome(app, gp["id"], "delivered", "2025-03-20T10:00:00+00:00", filed)
    for query in ("?recipient=court", "?format=html", "?format=fhir"):
        assert _report(client, auth, referral_id, query).status_code in (200, 201), query
    text = " ".join(pdf_text(_report(client, auth, referral_id).data).split())
    assert "General practitioner (Example Medical Practice): referral made" in text
    assert "latest: Filed (21 March 2025)" in text  # ld-delivery-status's display


def test_limited_consent_gives_identity_and_adjustment_needs_only(
    client: FlaskClient, auth: dict
) -> None:
    referral_id = _referral(client, auth)
    _onward(client, auth, referral_id, "gp", "example-medical-practice-gp")
    # The screen finds learning disability, communication needs, drugs, housing...; and the
    # person now agrees to limited sharing with criminal justice.
    screen = client.post(
        f"/api/referrals/{referral_id}/assessments",
        json=_fixture("assessments/adult-custody-telford.json"),
        headers=auth,
    )
    assert screen.status_code == 201, screen.get_json()

    text = " ".join(pdf_text(_report(client, auth, referral_id, "?format=pdf").data).split())

    for expected in (
        NAME,
        BIRTH,
        CUSTODY_NUMBER,
        "Learning disability",
        "Speech, language and communication needs",
        "easy-read",
        "intermediary",
        "Limited: name, date of birth and justice identifiers only",
        # Who assessed the person: the court usually wants the author's name and role.
        "Assessed by Alex Morgan, Liaison and diversion nurse",
    ):
        assert expected in text, expected
    for outside in (
        NHS_NUMBER,
        "14 Wrekin View",
        "TF1 2AB",
        "Male",
        "Mental health",
        "Alcohol",
        "Drug misuse",
        "Homelessness",
        "Self-harm",
        "Care experienced",
        "General practitioner",
        "Example Medical Practice",
        "withdrawal",  # the adjustment for substance use: out of scope too
    ):
        assert outside not in text, outside


@pytest.mark.parametrize(
    ("consent", "why"),
    [
        (None, "share-criminal-justice consent is missing"),
        ({"decision": "declined"}, "share-criminal-justice consent is declined"),
        (
            {"decision": "agreed", "capacity": "lacks-capacity"},
            "share-criminal-justice consent was recorded when the person lacked capacity",
        ),
    ],
)
def test_without_a_valid_criminal_justice_consent_no_report_is_made(
    app: Flask, client: FlaskClient, auth: dict, consent: dict | None, why: str
) -> None:
    referral_id = _referral(client, auth, _with_cj_consent(**(consent or {})))

    for query in ("", "?format=html", "?format=fhir"):
        response = _report(client, auth, referral_id, query)
        assert response.status_code == 422
        issue = response.get_json()["issue"][0]
        assert why in issue["diagnostics"]
        assert issue["expression"] == ["consents"]
    assert _stored_documents(app) == []


def test_html_is_a_page_with_every_text_escaped(client: FlaskClient, auth: dict) -> None:
    body = _fixture("referrals/adult-custody-telford.json")
    body["person"]["family_name"] = '<script>alert("x")</script>'
    referral_id = _referral(client, auth, body)

    response = _report(client, auth, referral_id, Accept="text/html")

    assert response.status_code == 200
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert "<script>" not in page
    assert "Daniel James &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert "Mental health" in page
    assert NHS_NUMBER not in page


def test_the_fhir_format_is_a_stored_valid_document_reference_with_the_pdf(
    client: FlaskClient, auth: dict
) -> None:
    referral_id = _referral(client, auth)
    referral = client.get(f"/api/referrals/{referral_id}", headers=auth).get_json()

    response = _report(
        client, auth, referral_id, "?recipient=probation", Accept="application/fhir+json"
    )

    assert response.status_code == 200
    assert response.mimetype == "application/fhir+json"
    document = response.get_json()
    assert not has_errors(validate(document)), validate(document)
    assert document["subject"]["reference"] == referral["fhir"]["patient"]
    assert document["category"][0]["coding"][0]["code"] == "probation"
    related = {r["reference"] for r in document["context"]["related"]}
    assert referral["fhir"]["service_request"] in related
    assert any(r.startswith("Consent/") for r in related)
    attachment = document["content"][0]["attachment"]
    assert attachment["contentType"] == "application/pdf"
    text = pdf_text(base64.b64decode(attachment["data"]))
    assert "For: Probation service." in text
    assert NAME in " ".join(text.split())
    assert response.headers["Content-Location"].endswith(f"/DocumentReference/{document['id']}")

    patient_id = referral["fhir"]["patient"].split("/")[1]
    found = client.get(f"/fhir/DocumentReference?patient={patient_id}", headers=auth).get_json()
    assert [e["resource"]["id"] for e in found["entry"]] == [document["id"]]


def test_every_report_is_kept_and_audited_with_its_consent_format_and_recipient(
    app: Flask, client: FlaskClient, auth: dict
) -> None:
    referral_id = _referral(client, auth)
    started = datetime.now(UTC).isoformat()

    assert _report(client, auth, referral_id, "?recipient=police").status_code == 200
    assert _report(client, auth, referral_id, "?format=html").status_code == 200

    documents = _stored_documents(app)
    assert sorted(d["content"][0]["attachment"]["contentType"] for d in documents) == [
        "application/pdf",
        "text/html; charset=utf-8",
    ]
    events = [
        e
        for e in _audit_events(app)
        if e["recorded"] >= started and e["subtype"][0]["code"] == "create"
    ]
    assert len(events) == 2
    for event, (fmt, recipient) in zip(
        events,
        [("application/pdf", "police"), ("text/html; charset=utf-8", "not named")],
        strict=True,
    ):
        assert event["outcome"] == "0"
        identifiers = [e["what"].get("identifier", {}).get("value") for e in event["entity"]]
        assert referral_id in identifiers  # the native referral
        references = [e["what"].get("reference", "") for e in event["entity"]]
        assert any(r.startswith("DocumentReference/") for r in references)
        assert any(r.startswith("Patient/") for r in references)
        consent = next(
            e for e in event["entity"] if e["what"].get("reference", "").startswith("Consent/")
        )
        details = {d["type"]: d["valueString"] for d in consent["detail"]}
        assert details == {"format": fmt, "recipient": recipient, "disclosure": "standard"}
        assert "Hartley" not in json.dumps(event)  # references only, no report content


def _audit_events(app: Flask) -> list[dict]:
    store = app.extensions["ld_adapter"].store
    with store.engine.connect() as connection:
        rows = connection.execute(
            sa.select(resource.c.content)
            .where(resource.c.resource_type == "AuditEvent")
            .order_by(resource.c.last_updated)
        ).scalars()
        return [orjson.loads(row) for row in rows]


def test_unknown_referral_is_404_and_nothing_is_kept(
    app: Flask, client: FlaskClient, auth: dict
) -> None:
    response = _report(client, auth, "no-such-referral")
    assert response.status_code == 404
    assert _stored_documents(app) == []


@pytest.mark.parametrize(
    ("query", "headers", "status", "expression"),
    [
        ("", {"Accept": "image/png"}, 406, "Accept"),
        ("?format=docx", {}, 406, "format"),
        ("?recipient=newspaper", {}, 400, "recipient"),
        ("?colour=red", {}, 400, "colour"),
    ],
)
def test_formats_and_recipients_outside_the_lists_are_refused(
    app: Flask,
    client: FlaskClient,
    auth: dict,
    query: str,
    headers: dict,
    status: int,
    expression: str,
) -> None:
    referral_id = _referral(client, auth)
    response = _report(client, auth, referral_id, query, **headers)
    assert response.status_code == status
    assert response.get_json()["issue"][0]["expression"] == [expression]
    assert _stored_documents(app) == []


def test_producing_a_report_needs_the_document_reference_create_scope(  # type: ignore[no-untyped-def]
    client: FlaskClient, auth: dict, token
) -> None:
    referral_id = _referral(client, auth)
    readers = [f"system/{t}.rs" for t in ("ServiceRequest", "Patient", "Consent", "Task")]
    response = _report(client, {"Authorization": f"Bearer {token(*readers)}"}, referral_id)
    assert response.status_code == 403
    assert "system/DocumentReference.c" in response.get_json()["issue"][0]["diagnostics"]
