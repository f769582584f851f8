"""POST /fhir/$process-message: the BaRS receiver rules, each as a partner would meet it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from adapter import create_app
from adapter.auth import mint_dev_token
from adapter.errors import Conflict
from adapter.search.query import SearchQuery, Token, TokenCriterion
from adapter.services.common import new_id
from adapter.services.inbound import Handled, Inbound
from adapter.services.inbound_handlers import registered
from adapter.settings import Settings
from adapter.store import Store, UnitOfWork
from tests.conftest import RecordingClient
from tests.support.inbound import (
    MPFT_CLIENT,
    OTHER_CLIENT,
    OUR_ODS,
    message_headers,
    partners_with_clients,
    referral_message,
)

EFFECT = "urn:test:effect"  # identifier system of what the test handler creates
URL = "/fhir/$process-message"


def effect_handler(
    uow: UnitOfWork, _settings: Settings, _d: list[dict], inbound: Inbound
) -> Handled:
    """A handler with one visible effect: an Organization named by the message's Bundle id."""
    identifier = {"system": EFFECT, "value": inbound.bundle["id"]}
    uow.resources.create(
        {"resourceType": "Organization", "id": new_id(), "identifier": [identifier]}
    )
    return Handled(201, referral_id=f"r-{inbound.bundle['id']}")


def effects(store: Store, bundle_id: str) -> int:
    query = SearchQuery(
        "Organization", (TokenCriterion("identifier", (Token(EFFECT, bundle_id),)),)
    )
    with store.unit_of_work(read_only=True) as uow:
        return uow.resources.search("Organization", query).total


@pytest.fixture
def receiving_settings(tmp_path: Path) -> Settings:
    return Settings(
        home=tmp_path,
        base_url="http://testserver",
        ods_code=OUR_ODS,
        partners_path=partners_with_clients(tmp_path),
    )


@pytest.fixture
def receiving_app(receiving_settings: Settings) -> Iterator[Flask]:
    application = create_app(receiving_settings)
    application.test_client_class = RecordingClient
    with registered("servicerequest-request", "new", effect_handler):
        yield application
    application.extensions["ld_adapter"].store.dispose()


@pytest.fixture
def partner(receiving_app: Flask, fhirjs_checked_bodies: list[dict]) -> FlaskClient:
    client = receiving_app.test_client()
    client.fhir_bodies = fhirjs_checked_bodies  # type: ignore[attr-defined]
    return client


def mint(settings: Settings, subject: str = MPFT_CLIENT, scope: str = "system/Bundle.c") -> str:
    return mint_dev_token(settings, [scope], subject=subject)


def store_of(app: Flask) -> Store:
    store: Store = app.extensions["ld_adapter"].store
    return store


def codes_of(response) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    outcome = response.get_json()
    return [(i["code"], i["details"]["coding"][0]["code"]) for i in outcome["issue"]]


def test_a_message_from_a_partner_is_accepted_once_and_recorded(
    partner: FlaskClient, receiving_app: Flask, receiving_settings: Settings
) -> None:
    message = referral_message()
    headers = message_headers(mint(receiving_settings))
    response = partner.post(URL, json=message, headers=headers)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["issue"][0]["severity"] == "information"
    assert response.headers["X-Request-Id"] == headers["X-Request-Id"]
    assert response.headers["X-Correlation-Id"] == headers["X-Correlation-Id"]
    store = store_of(receiving_app)
    assert effects(store, message["id"]) == 1
    with store.unit_of_work(read_only=True) as uow:
        row = uow.inbound.get_by_request_id(headers["X-Request-Id"])
    assert row is not None
    assert (row.event, row.reason, row.bundle_id) == (
        "servicerequest-request",
        "new",
        message["id"],
    )
    assert (row.partner_service, row.referral_id) == ("mpft-ld-home-area", f"r-{message['id']}")
    assert row.correlation_id == headers["X-Correlation-Id"]
    assert row.sender_endpoint == "https://ld-adapter.example.nhs.uk/fhir"
    assert row.body == message


def test_a_replayed_request_id_is_409_duplicate_and_has_no_second_effect(
    partner: FlaskClient, receiving_app: Flask, receiving_settings: Settings
) -> None:
    message = referral_message()
    headers = message_headers(mint(receiving_settings))
    assert partner.post(URL, json=message, headers=headers).status_code == 201
    again = partner.post(URL, json=message, headers=headers)
    assert again.status_code == 409
    assert codes_of(again) == [("duplicate", "REC_CONFLICT")]
    assert again.headers["X-Request-Id"] == headers["X-Request-Id"]
    # Upper case is the same GUID: it cannot dodge the check.
    upper = {**headers, "X-Request-Id": headers["X-Request-Id"].upper()}
    assert partner.post(URL, json=message, headers=upper).status_code == 409
    assert effects(store_of(receiving_app), message["id"]) == 1


@pytest.mark.parametrize(
    ("header", "value"),
    [
        ("X-Request-Id", None),
        ("X-Request-Id", "not-a-guid"),
        ("X-Correlation-Id", None),
        ("X-Correlation-Id", "0f8fad5b-d9cb-469f-a165-70867728950"),
    ],
)
def test_request_and_correlation_ids_must_be_guids(
    partner: FlaskClient, receiving_settings: Settings, header: str, value: str | None
) -> None:
    headers = message_headers(mint(receiving_settings))
    if value is None:
        del headers[header]
    else:
        headers[header] = value
    response = partner.post(URL, json=referral_message(), headers=headers)
    assert response.status_code == 400
    assert codes_of(response)[0][1] == "REC_BAD_REQUEST"
    assert header in response.get_json()["issue"][0]["diagnostics"]
    if value is not None:
        assert response.headers[header] == value  # echoed, even on the refusal


def test_a_token_not_bound_to_a_partner_is_refused(
    partner: FlaskClient, receiving_settings: Settings
) -> None:
    staff = mint(receiving_settings, subject="ld-adapter-dev", scope="system/*.cruds")
    response = partner.post(URL, json=referral_message(), headers=message_headers(staff))
    assert response.status_code == 403
    assert codes_of(response) == [("forbidden", "REC_FORBIDDEN")]
    assert "X-Request-Id" in response.headers


def test_a_partner_token_needs_bundle_create(
    partner: FlaskClient, receiving_settings: Settings
) -> None:
    token = mint(receiving_settings, scope="system/Patient.rs")
    response = partner.post(URL, json=referral_message(), headers=message_headers(token))
    assert response.status_code == 403
    assert "system/Bundle.c" in response.get_json()["issue"][0]["diagnostics"]


@pytest.mark.parametrize("path", ["/fhir/Patient", "/api/referrals", "/fhir/Organization/mpft"])
def test_a_partner_client_may_call_nothing_else(
    partner: FlaskClient, receiving_settings: Settings, path: str
) -> None:
    token = mint(receiving_settings, scope="system/*.cruds")
    response = partner.get(path, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 403
    assert "$process-message" in response.get_json()["issue"][0]["diagnostics"]


def test_the_sender_must_be_the_partner_the_token_is_bound_to(
    partner: FlaskClient, receiving_app: Flask, receiving_settings: Settings
) -> None:
    message = referral_message()
    council = mint(receiving_settings, subject=OTHER_CLIENT)
    response = partner.post(URL, json=message, headers=message_headers(council))
    assert response.status_code == 403
    assert response.get_json()["issue"][0]["expression"] == ["Bundle.entry[0].resource.sender"]
    assert effects(store_of(receiving_app), message["id"]) == 0


def test_a_message_for_another_service_is_422(
    partner: FlaskClient, receiving_settings: Settings
) -> None:
    message = referral_message()
    message["entry"][0]["resource"]["destination"][0]["receiver"] = {
        "reference": "Organization/mpft"
    }
    response = partner.post(URL, json=message, headers=message_headers(mint(receiving_settings)))
    assert response.status_code == 422
    assert codes_of(response) == [("processing", "REC_UNPROCESSABLE_ENTITY")]


def test_our_endpoint_alone_addresses_a_message_to_us(
    partner: FlaskClient, receiving_settings: Settings
) -> None:
    message = referral_message()
    destination = message["entry"][0]["resource"]["destination"][0]
    destination["endpoint"] = f"{receiving_settings.source_endpoint}/"  # a trailing slash
    destination["receiver"] = {"reference": "Organization/mpft"}
    response = partner.post(URL, json=message, headers=message_headers(mint(receiving_settings)))
    assert response.status_code == 201, response.get_json()


def test_a_body_that_is_not_a_valid_message_gets_the_validators_issues(
    partner: FlaskClient, receiving_settings: Settings
) -> None:
    headers = message_headers(mint(receiving_settings))
    collection = {**referral_message(), "type": "collection"}
    assert partner.post(URL, json=collection, headers=headers).status_code == 400
    message = referral_message()
    message["entry"] = [e for e in message["entry"] if e["resource"]["resourceType"] != "Patient"]
    response = partner.post(URL, json=message, headers=message_headers(mint(receiving_settings)))
    assert response.status_code == 400
    ids = {c["code"] for i in response.get_json()["issue"] for c in i["details"]["coding"]}
    assert "REC_BAD_REQUEST" in ids
    assert any("Patient" in i["diagnostics"] for i in response.get_json()["issue"])


@pytest.mark.parametrize(
    "change",
    ["reason", "event", "category"],
)
def test_an_unknown_workflow_is_400_invariant(
    partner: FlaskClient, receiving_settings: Settings, change: str
) -> None:
    message = referral_message()
    header = message["entry"][0]["resource"]
    with registered("servicerequest-response", "new", effect_handler):
        if change == "reason":
            header["reason"]["coding"][0]["code"] = "cancel"  # no route takes it
        elif change == "event":  # a response to nothing: no handler takes a response with `new`
            header["eventCoding"]["code"] = "servicerequest-request"
            header["reason"]["coding"][0]["system"] = "https://example.org/reasons"
        else:
            request = message["entry"][1]["resource"]
            request["category"] = [
                {
                    "coding": [
                        {
                            "system": "https://fhir.nhs.uk/CodeSystem/message-category-servicerequest",
                            "code": "validation",
                        }
                    ]
                }
            ]
        headers = message_headers(mint(receiving_settings))
        response = partner.post(URL, json=message, headers=headers)
    assert response.status_code == 400, response.get_json()
    assert codes_of(response) == [("invariant", "REC_BAD_REQUEST")]


def test_a_refused_message_stores_nothing_and_may_be_sent_again(
    partner: FlaskClient, receiving_app: Flask, receiving_settings: Settings
) -> None:
    message = referral_message()
    headers = message_headers(mint(receiving_settings))

    def refuse(uow: UnitOfWork, settings: Settings, d: list[dict], inbound: Inbound) -> Handled:
        effect_handler(uow, settings, d, inbound)
        raise Conflict("Local data is newer than the message.")

    with registered("servicerequest-request", "new", refuse):
        response = partner.post(URL, json=message, headers=headers)
    assert response.status_code == 409
    assert codes_of(response) == [("conflict", "REC_CONFLICT")]
    assert effects(store_of(receiving_app), message["id"]) == 0
    assert partner.post(URL, json=message, headers=headers).status_code == 201


def test_every_message_received_or_refused_is_audited(
    partner: FlaskClient, receiving_app: Flask, receiving_settings: Settings
) -> None:
    token = mint(receiving_settings)
    partner.post(URL, json=referral_message(), headers=message_headers(token))
    partner.post(
        URL, json=referral_message(), headers={**message_headers(token), "X-Request-Id": "x"}
    )
    query = SearchQuery("AuditEvent", (TokenCriterion("subtype", (Token(None, "operation"),)),))
    with store_of(receiving_app).unit_of_work(read_only=True) as uow:
        events = uow.resources.search("AuditEvent", query).resources
    outcomes = sorted(e["outcome"] for e in events)
    assert outcomes == ["0", "4"]
    assert all(e["agent"][0]["who"]["identifier"]["value"] == MPFT_CLIENT for e in events)


def test_the_capability_statement_lists_the_messages_we_take(
    partner: FlaskClient, receiving_settings: Settings
) -> None:
    statement = partner.get("/fhir/metadata").get_json()
    messaging = statement["messaging"][0]
    assert messaging["endpoint"][0]["address"] == receiving_settings.source_endpoint
    received = {m["definition"] for m in messaging["supportedMessage"] if m["mode"] == "receiver"}
    assert (
        "https://ld-adapter.github.io/fhir/MessageDefinition/ld-onward-referral-request" in received
    )
    assert {o["name"] for o in statement["rest"][0]["operation"]} >= {"process-message"}


def test_request_ids_are_stored_in_lower_case(
    partner: FlaskClient, receiving_app: Flask, receiving_settings: Settings
) -> None:
    request_id = str(uuid.uuid4()).upper()
    headers = message_headers(mint(receiving_settings), request_id)
    assert partner.post(URL, json=referral_message(), headers=headers).status_code == 201
    with store_of(receiving_app).unit_of_work(read_only=True) as uow:
        assert uow.inbound.get_by_request_id(request_id.lower()) is not None
