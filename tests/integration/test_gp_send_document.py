"""An onward referral to a GP practice reached by MESH: GP Connect Send Document, then acks."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from adapter.conformance import has_errors, validate
from adapter.errors import AdapterError
from adapter.exchange.mesh_inbox import MeshInbound
from adapter.exchange.stu3_check import stu3_problems
from adapter.services.gp_acks import receive_gp_ack
from adapter.settings import Settings
from adapter.store import Store
from adapter.store.tables import onward_referral
from tests.integration.store_fixtures import database_url, postgres_url  # noqa: F401 - fixtures
from tests.support.gp_mesh import GP, OUR_MAILBOX, gp_mesh_settings, itk_ack
from tests.support.pdf_text import pdf_text

ROOT = Path(__file__).resolve().parents[2]
NHS_NUMBER = "https://fhir.nhs.uk/Id/nhs-number"
REFERRALS = ROOT / "fixtures" / "native" / "referrals"
PRACTITIONER = {"name": "Alex Morgan", "role": "L&D practitioner (RMN)"}


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:  # noqa: F811
    """SQLite, and PostgreSQL when LD_ADAPTER_TEST_POSTGRES_URL is set."""
    return gp_mesh_settings(tmp_path, database_url)


def _referral(client: FlaskClient, auth: dict, **person: object) -> dict:
    payload = json.loads((REFERRALS / "adult-custody-telford.json").read_text(encoding="utf-8"))
    payload["person"].update(person)
    payload["person"] = {k: v for k, v in payload["person"].items() if v is not None}
    response = client.post("/api/referrals", json=payload, headers=auth)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def _onward(client: FlaskClient, auth: dict, referral_id: str, **body: object):  # type: ignore[no-untyped-def]
    body = {
        "pathway": "gp",
        "to": GP,
        "referred_by": PRACTITIONER,
        "reason": "Please review his low mood and drinking.",
        "note": "Booked with the community alcohol team on 20 March.",
        **body,
    }
    return client.post(f"/api/referrals/{referral_id}/onward-referrals", json=body, headers=auth)


def _queued(app: Flask, onward_id: str):  # type: ignore[no-untyped-def]
    store = app.extensions["ld_adapter"].store
    with store.unit_of_work(read_only=True) as uow:
        return uow.outbox.for_onward_referral(onward_id)[0]


def _documents(message: dict) -> dict[str, dict]:
    document = message["entry"][2]["resource"]
    return {e["resource"]["resourceType"]: e["resource"] for e in document["entry"]}


def test_a_gp_reached_by_mesh_is_queued_a_valid_send_document_message_with_the_summary(
    app: Flask, client: FlaskClient, auth: dict
) -> None:
    referral = _referral(client, auth)
    created = _onward(client, auth, referral["id"])
    assert created.status_code == 201, created.get_json()
    message = _queued(app, created.get_json()["id"])

    assert message.transport == "mesh"
    assert message.headers["Mex-To"] == "GPPROVIDER_9990012342_02061988_Hartley"
    assert message.headers["Mex-WorkflowID"] == "GPFED_CONSULT_REPORT"
    assert message.headers["Mex-LocalID"] == message.id
    assert stu3_problems(message.body) == []
    header = message.body["entry"][0]["resource"]
    assert header["id"] == message.id  # what the practice's acks answer
    assert header["event"]["code"] == "ITK007C"
    assert header["source"]["endpoint"] == OUR_MAILBOX
    assert "destination" not in header  # MESH routes it by the person (GPCM-SD-049)
    resources = _documents(message.body)
    assert resources["Composition"]["type"]["coding"][0]["code"] == "371531000"
    (nhs_number,) = resources["Patient"]["identifier"]
    assert (nhs_number["system"], nhs_number["value"]) == (NHS_NUMBER, "9990012342")
    # the stored UK Core verification status, as CareConnect-Patient-1 requires it (1..1)
    status = nhs_number["extension"][0]
    assert status["url"].endswith("/Extension-CareConnect-NHSNumberVerificationStatus-1")
    assert status["valueCodeableConcept"]["coding"][0]["code"] == "02"
    assert [(i["system"], i["value"]) for i in resources["Patient"]["identifier"]] == [
        ("https://fhir.nhs.uk/Id/nhs-number", "9990012342")
    ]
    # Seen by the L&D service at the referral's site: its provider, reachable by its phone
    # (GPCM-SD-031), the same service the PDF's letterhead names.
    organization = resources["Organization"]
    assert organization["name"] == "Midlands Partnership University NHS Foundation Trust"
    assert {"system": "phone", "value": "01743 210080", "use": "work"} in organization["telecom"]
    assert (
        "seen at Midlands Partnership University NHS Foundation Trust, ODS Code RRE"
        in (message.headers["Mex-Subject"])
    )

    text = pdf_text(base64.b64decode(resources["Binary"]["content"]))
    for expected in (
        "Liaison and Diversion contact summary",
        "Daniel James Hartley",
        "999 001 2342",
        "2 June 1988",
        "Alex Morgan (L&D practitioner (RMN))",
        "Please review his low mood and drinking.",
        "Booked with the community alcohol team on 20 March.",
        "Alcohol",
    ):
        assert expected in text, expected
    for withheld in ("22TE/4417/25", "Custody", "custody", "Sgt Priya Kaur", "West Mercia"):
        assert withheld not in text, withheld


def test_without_a_date_of_birth_the_gp_cannot_be_addressed_and_nothing_is_stored(
    app: Flask, client: FlaskClient, auth: dict
) -> None:
    referral = _referral(client, auth, birth_date=None)
    refused = _onward(client, auth, referral["id"])
    assert refused.status_code == 422
    issue = refused.get_json()["issue"][0]
    assert issue["expression"] == ["person.birth_date"]
    assert "date of birth" in issue["diagnostics"]
    assert client.get("/api/messages", headers=auth).get_json()["total"] == 0
    assert client.get("/fhir/Task?_count=1", headers=auth).get_json()["total"] == 0


def test_acks_move_the_onward_referral_to_delivered_then_filed(
    app: Flask, client: FlaskClient, auth: dict
) -> None:
    referral = _referral(client, auth)
    onward = _onward(client, auth, referral["id"]).get_json()
    message = _queued(app, onward["id"])
    store = app.extensions["ld_adapter"].store
    at = datetime.now(UTC)

    assert _acked(store, itk_ack(message.id, "20013"), "mesh-1", at) == onward["id"]
    assert _task_status(client, auth, onward) == ("delivered", "received")
    business = itk_ack(message.id, "30001")
    assert _acked(store, business, "mesh-2", at) == onward["id"]
    assert _task_status(client, auth, onward) == ("filed", "completed")
    _acked(store, business, "mesh-2", at)  # read again before MESH heard it was taken
    now = client.get(f"/api/onward-referrals/{onward['id']}", headers=auth).get_json()
    assert now["status"] == "completed"
    assert [o["status"] for o in now["outcomes"]] == ["delivered", "filed"]


def test_a_duplicate_ack_for_a_copy_sent_twice_does_not_fail_what_the_practice_filed(
    app: Flask, client: FlaskClient, auth: dict
) -> None:
    """A send that timed out after MESH took it goes again; the practice answers the copy 20007."""
    referral = _referral(client, auth)
    onward = _onward(client, auth, referral["id"]).get_json()
    message = _queued(app, onward["id"])
    store = app.extensions["ld_adapter"].store
    at = datetime.now(UTC)
    _acked(store, itk_ack(message.id, "20013"), "mesh-1", at)
    _acked(store, itk_ack(message.id, "20007", ok=False), "mesh-2", at)
    _acked(store, itk_ack(message.id, "30001"), "mesh-3", at)

    assert _task_status(client, auth, onward) == ("filed", "completed")
    now = client.get(f"/api/onward-referrals/{onward['id']}", headers=auth).get_json()
    assert now["status"] == "completed"
    assert [o["itk_code"] for o in now["outcomes"]] == ["20013", "20007", "30001"]


def test_a_negative_ack_fails_the_onward_referral_with_the_code_not_the_free_text(
    app: Flask, client: FlaskClient, auth: dict
) -> None:
    referral = _referral(client, auth)
    onward = _onward(client, auth, referral["id"]).get_json()
    message = _queued(app, onward["id"])
    store = app.extensions["ld_adapter"].store
    _acked(store, itk_ack(message.id, "30002", ok=False), "mesh-1", datetime.now(UTC))

    task = client.get(f"/fhir/{onward['fhir']['task']}", headers=auth).get_json()
    assert task["businessStatus"]["coding"][0]["code"] == "failed"
    assert task["statusReason"]["text"] == "ITK3 response 30002: Patient not known here"
    now = client.get(f"/api/onward-referrals/{onward['id']}", headers=auth).get_json()
    assert now["status"] == "rejected"
    assert "Hartley" not in json.dumps(now["outcomes"])
    # A late positive infrastructure ack does not undo the failure.
    _acked(store, itk_ack(message.id, "20013"), "mesh-2", datetime.now(UTC))
    assert _task_status(client, auth, onward) == ("failed", "failed")


def _spoiled_ack(field: str, spoilt: object) -> bytes:
    bundle = json.loads(itk_ack("5d0c7f4e-1b7a-4a53-9a0e-0c1f3e9c2a00", "20013"))
    issue = bundle["entry"][1]["resource"]["issue"]
    if field == "issue":
        bundle["entry"][1]["resource"]["issue"] = spoilt
    else:
        issue[0][field] = spoilt
    return json.dumps(bundle).encode()


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (b"not json", "not JSON"),
        (_spoiled_ack("details", "oops"), "issue.details is not a CodeableConcept"),
        (_spoiled_ack("issue", 5), "OperationOutcome.issue is not a list"),
        (itk_ack("5d0c7f4e-1b7a-4a53-9a0e-0c1f3e9c2a00", "20013"), "answers no message of ours"),
    ],
)
def test_an_unusable_ack_from_mesh_is_refused_so_it_is_not_read_at_every_poll(
    app: Flask, settings: Settings, body: bytes, why: str
) -> None:
    """The inbox acknowledges and audits as refused what its handler refuses (AdapterError 4xx)."""
    inbound = MeshInbound(
        "mesh-1", "GPPRACTICE", "GPFED_CONSULT_REPORT_ACK", None, None, body, datetime.now(UTC)
    )
    with pytest.raises(AdapterError) as refused:
        receive_gp_ack(app.extensions["ld_adapter"].store, settings, inbound)
    assert why in refused.value.issues[0].diagnostics


def _task_status(client: FlaskClient, auth: dict, onward: dict) -> tuple[str, str]:
    task = client.get(f"/fhir/{onward['fhir']['task']}", headers=auth).get_json()
    assert not has_errors(validate(task))  # the Task profile ties status to businessStatus
    return task["businessStatus"]["coding"][0]["code"], task["status"]


def test_reading_a_send_document_body_needs_the_scopes_of_what_its_document_holds(
    app: Flask, client: FlaskClient, auth: dict, token
) -> None:  # type: ignore[no-untyped-def]
    referral = _referral(client, auth)
    message = _queued(app, _onward(client, auth, referral["id"]).get_json()["id"])
    bundle_only = {"Authorization": f"Bearer {token('system/Bundle.r')}"}
    refused = client.get(f"/api/messages/{message.id}?include=body", headers=bundle_only)
    assert refused.status_code == 403
    assert any("Patient" in i["diagnostics"] for i in refused.get_json()["issue"])
    allowed = {"Authorization": f"Bearer {token('system/Bundle.r', 'system/*.r')}"}
    shown = client.get(f"/api/messages/{message.id}?include=body", headers=allowed).get_json()
    assert shown["body"]["entry"][0]["resource"]["event"]["code"] == "ITK007C"


def test_cancelling_before_delivery_withdraws_the_document_and_sends_nothing_else(
    app: Flask, client: FlaskClient, auth: dict
) -> None:
    referral = _referral(client, auth)
    onward = _onward(client, auth, referral["id"]).get_json()
    cancelled = client.post(f"/api/onward-referrals/{onward['id']}/cancel", headers=auth)
    assert cancelled.status_code == 200, cancelled.get_json()
    messages = cancelled.get_json()["messages"]
    assert [(m["kind"], m["status"]) for m in messages] == [("onward-referral", "cancelled")]


@pytest.mark.parametrize("code", ["20013", "30001", "30002"])
def test_a_justice_report_after_the_practices_ack_prints_the_delivery_state(
    app: Flask, client: FlaskClient, auth: dict, code: str
) -> None:
    referral = _referral(client, auth)
    onward = _onward(client, auth, referral["id"]).get_json()
    message = _queued(app, onward["id"])
    store = app.extensions["ld_adapter"].store
    at = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    _acked(store, itk_ack(message.id, code, ok=code != "30002"), "mesh-1", at)

    url = f"/api/referrals/{referral['id']}/justice-report?recipient=court"
    for query in ("", "&format=html", "&format=fhir"):
        response = client.get(url + query, headers=auth)
        assert response.status_code == 200, (query, response.get_json(silent=True))
    text = " ".join(pdf_text(client.get(url, headers=auth).data).split())
    shown = {"20013": "Delivered", "30001": "Filed", "30002": "Failed"}[code]
    assert f"latest: {shown} (1 December 2026)" in text


def test_a_duplicate_message_answer_after_filing_moves_nothing(
    app: Flask, client: FlaskClient, auth: dict
) -> None:
    referral = _referral(client, auth)
    onward = _onward(client, auth, referral["id"]).get_json()
    message = _queued(app, onward["id"])
    store = app.extensions["ld_adapter"].store
    at = datetime.now(UTC)
    _acked(store, itk_ack(message.id, "20013"), "mesh-1", at)
    # A resend (MESH took the first copy, our send timed out) is answered "20007 duplicate".
    _acked(store, itk_ack(message.id, "20007", ok=False), "mesh-2", at)
    _acked(store, itk_ack(message.id, "30001"), "mesh-3", at)

    now = client.get(f"/api/onward-referrals/{onward['id']}", headers=auth).get_json()
    assert now["status"] == "completed"
    assert [o["itk_code"] for o in now["outcomes"]] == ["20013", "20007", "30001"]
    assert all(o["reason"] is None for o in now["outcomes"])
    assert _task_status(client, auth, onward) == ("filed", "completed")


def test_the_practices_own_text_is_never_the_failure_reason(
    app: Flask, client: FlaskClient, auth: dict
) -> None:
    referral = _referral(client, auth)
    onward = _onward(client, auth, referral["id"]).get_json()
    message = _queued(app, onward["id"])
    text = "Daniel Hartley, born 02/06/1988, NHS 9990012342, is not registered here " + "x" * 5000
    ack = itk_ack(message.id, "30002", ok=False, display=text)
    _acked(app.extensions["ld_adapter"].store, ack, "mesh-1", datetime.now(UTC))

    now = client.get(f"/api/onward-referrals/{onward['id']}", headers=auth).get_json()
    assert now["outcome"]["reason"] == "ITK3 response 30002: Patient not known here"
    task = client.get(f"/fhir/{onward['fhir']['task']}", headers=auth).get_json()
    assert task["statusReason"]["text"] == "ITK3 response 30002: Patient not known here"


def _inbound(body: bytes) -> MeshInbound:
    return MeshInbound(
        "MESH-1", "X26GP01", "GPFED_CONSULT_REPORT_ACK", None, None, body, datetime.now(UTC)
    )


def _acked(store: Store, body: bytes, mesh_message_id: str, at: datetime) -> str:
    """Hand an ITK3 response to the inbox's handler, as if taken from MESH at `at`."""
    inbound = MeshInbound(
        mesh_message_id, "X26GP01", "GPFED_CONSULT_REPORT_ACK", None, None, body, at
    )
    return receive_gp_ack(store, Settings(), inbound)


@pytest.mark.parametrize(
    ("spoil", "status"),
    [
        (lambda b: b["entry"][1]["resource"]["issue"][0].update(details="oops"), 400),
        (lambda b: b["entry"][1]["resource"].update(issue=5), 400),
        (lambda b: b["entry"][0]["resource"]["response"].pop("identifier"), 400),
        (lambda b: b["entry"][0]["resource"]["response"].update(identifier="not-ours"), 422),
    ],
)
def test_an_unusable_ack_is_refused_so_the_inbox_records_and_acknowledges_it(
    app: Flask, spoil, status: int
) -> None:  # type: ignore[no-untyped-def]
    bundle = json.loads(itk_ack("5d0c7f4e-1b7a-4a53-9a0e-0c1f3e9c2a00", "20013"))
    spoil(bundle)
    store = app.extensions["ld_adapter"].store
    with pytest.raises(AdapterError) as refused:
        receive_gp_ack(
            store, app.extensions["ld_adapter"].settings, _inbound(json.dumps(bundle).encode())
        )
    assert refused.value.status == status


def test_a_document_the_practice_received_but_never_filed_is_overdue(
    app: Flask, client: FlaskClient, auth: dict
) -> None:
    referral = _referral(client, auth)
    onward = _onward(client, auth, referral["id"]).get_json()
    message = _queued(app, onward["id"])
    store = app.extensions["ld_adapter"].store
    _acked(store, itk_ack(message.id, "20013"), "mesh-1", datetime.now(UTC))
    with store.unit_of_work() as uow:  # made 15 days ago: a GP's wait is 14 days
        uow._connection.execute(
            onward_referral.update()
            .where(onward_referral.c.id == onward["id"])
            .values(created_at=datetime.now(UTC) - timedelta(days=15))
        )

    # Its system took it (infrastructure ack); nobody filed it: that is no answer.
    overdue = client.get("/api/onward-referrals?overdue=true", headers=auth).get_json()
    assert [item["id"] for item in overdue["items"]] == [onward["id"]]
    _acked(store, itk_ack(message.id, "30001"), "mesh-2", datetime.now(UTC))
    assert client.get("/api/onward-referrals?overdue=true", headers=auth).get_json()["total"] == 0
