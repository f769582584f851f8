"""The FHIR messaging transport against a mocked partner (`responses`): what each answer means."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
import requests
import responses

from adapter.exchange.http_transport import (
    MAX_RETRY_AFTER,
    FhirMessagingTransport,
    parse_retry_after,
)
from adapter.exchange.model import Delivered, OutboundMessage, Rejected, TryAgain
from adapter.settings import Settings

BASE = "https://fhir.partner.example.org/R4"
URL = f"{BASE}/$process-message"
AUTH_URL = "https://ld-adapter.github.io/fhir/StructureDefinition/ld-endpoint-auth"
TOKEN_URL = "https://auth.partner.example.org/oauth2/token"
# A name in the partner's diagnostics: it must never reach a reason (last_error).
PATIENT_TEXT = "Jane Example, NHS number 9990012342"


def message(**changes: object) -> OutboundMessage:
    fields: dict = {
        "id": str(uuid.uuid4()),
        "request_id": str(uuid.uuid4()),
        "correlation_id": str(uuid.uuid4()),
        "endpoint_id": "partner-endpoint",
        "transport": "fhir-messaging",
        "ordering_key": "partner|patient",
        "kind": "onward-referral",
        "body": {"resourceType": "Bundle", "type": "message", "entry": []},
        "headers": {"NHSD-Target-Identifier": "eyJ2YWx1ZSI6ICJ4In0="},
    }
    fields.update(changes)
    return OutboundMessage(**fields)


def endpoint(*auth_parts: tuple[str, str], address: str = BASE) -> dict:
    resource: dict = {"resourceType": "Endpoint", "id": "partner-endpoint", "address": address}
    if auth_parts:
        parts = [{"url": name, "valueString": value} for name, value in auth_parts]
        parts[0] = {"url": "type", "valueCode": auth_parts[0][1]}
        resource["extension"] = [{"url": AUTH_URL, "extension": parts}]
    return resource


def outcome(code: str, diagnostics: str = PATIENT_TEXT, details: str | None = None) -> dict:
    issue: dict = {"severity": "error", "code": code, "diagnostics": diagnostics}
    if details:
        issue["details"] = {"coding": [{"code": details}]}
    return {"resourceType": "OperationOutcome", "issue": [issue]}


@pytest.fixture
def transport(tmp_path: Path) -> FhirMessagingTransport:
    return FhirMessagingTransport(Settings(home=tmp_path, delivery_timeout=2))


@responses.activate
def test_a_2xx_is_delivered_with_every_header_and_the_body(transport) -> None:
    sent = message()
    responses.post(URL, json=outcome("informational"), status=200)
    result = transport.send(sent, endpoint())
    assert isinstance(result, Delivered)
    assert result.status_code == 200 and result.response["resourceType"] == "OperationOutcome"
    request = responses.calls[0].request
    assert request.headers["Content-Type"] == "application/fhir+json"
    assert request.headers["Accept"] == "application/fhir+json"
    assert request.headers["X-Request-Id"] == sent.request_id
    assert request.headers["X-Correlation-Id"] == sent.correlation_id
    assert request.headers["NHSD-Target-Identifier"] == "eyJ2YWx1ZSI6ICJ4In0="
    assert "Authorization" not in request.headers
    assert json.loads(request.body) == sent.body


@responses.activate
def test_an_empty_202_is_delivered_and_a_trailing_slash_is_not_doubled(transport) -> None:
    responses.post(URL, status=202)
    assert transport.send(message(), endpoint(address=BASE + "/")) == Delivered(202, None)


@responses.activate
def test_a_resend_carries_the_same_request_id(transport) -> None:
    sent = message()
    responses.post(URL, status=503)
    responses.post(URL, status=200)
    assert isinstance(transport.send(sent, endpoint()), TryAgain)
    assert isinstance(transport.send(sent, endpoint()), Delivered)
    ids = [call.request.headers["X-Request-Id"] for call in responses.calls]
    assert ids == [sent.request_id, sent.request_id]


@responses.activate
def test_409_duplicate_means_the_partner_already_has_it(transport) -> None:
    responses.post(URL, json=outcome("duplicate"), status=409)
    result = transport.send(message(), endpoint())
    assert isinstance(result, Delivered) and result.status_code == 409


@responses.activate
def test_409_for_another_reason_is_rejected(transport) -> None:
    responses.post(URL, json=outcome("conflict"), status=409)
    result = transport.send(message(), endpoint())
    assert isinstance(result, Rejected) and result.reason == "HTTP 409: conflict"


@pytest.mark.parametrize("status", [408, 425, 429, 500, 502, 503, 504])
@responses.activate
def test_transient_statuses_are_tried_again(transport, status: int) -> None:
    responses.post(URL, json=outcome("transient"), status=status)
    assert transport.send(message(), endpoint()) == TryAgain(f"HTTP {status}", status, None)


@responses.activate
def test_retry_after_in_seconds_is_kept(transport) -> None:
    responses.post(URL, status=429, headers={"Retry-After": "120"})
    assert transport.send(message(), endpoint()) == TryAgain("HTTP 429", 429, 120.0)


@responses.activate
def test_fractional_retry_after_is_kept(transport) -> None:
    responses.post(URL, status=503, headers={"Retry-After": "1.5"})
    assert transport.send(message(), endpoint()) == TryAgain("HTTP 503", 503, 1.5)


def test_retry_after_as_an_http_date_is_seconds_from_now() -> None:
    now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    when = format_datetime(now + timedelta(seconds=90), usegmt=True)
    assert parse_retry_after(when, now) == 90.0
    assert parse_retry_after(format_datetime(now - timedelta(hours=1), usegmt=True), now) == 0.0


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("86400", MAX_RETRY_AFTER),
        ("0", 0.0),
        ("1.5", 1.5),
        (" 0.25 ", 0.25),
        ("3.", 3.0),
        ("86400.5", MAX_RETRY_AFTER),
        ("soon", None),
        ("-5", None),
        ("-0.5", None),
        ("1e3", None),
        ("nan", None),
        ("inf", None),
        ("1.2.3", None),
        ("\u00b2", None),
        (None, None),
    ],
)
def test_retry_after_is_capped_and_nonsense_ignored(header: str | None, seconds) -> None:
    assert parse_retry_after(header) == seconds


@responses.activate
def test_a_4xx_outcome_is_kept_and_the_reason_holds_codes_not_diagnostics(transport) -> None:
    refusal = outcome("invalid", details="REC_BAD_REQUEST")
    responses.post(URL, json=refusal, status=400)
    result = transport.send(message(), endpoint())
    assert result == Rejected("HTTP 400: invalid, REC_BAD_REQUEST", 400, refusal)
    assert "Jane" not in result.reason


@pytest.mark.parametrize("status", [400, 403, 404, 410, 413, 415, 422])
@responses.activate
def test_other_4xx_without_an_outcome_are_rejected_with_a_short_reason(transport, status) -> None:
    responses.post(URL, body=f"<html>{PATIENT_TEXT}</html>", status=status)
    assert transport.send(message(), endpoint()) == Rejected(f"HTTP {status}", status, None)


@responses.activate
def test_a_redirect_is_not_followed(transport) -> None:
    responses.post(URL, status=307, headers={"Location": "https://elsewhere.example.org/"})
    result = transport.send(message(), endpoint())
    assert isinstance(result, Rejected) and "redirects" in result.reason
    assert len(responses.calls) == 1


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (requests.ConnectionError("refused"), "connection failed"),
        (requests.ConnectTimeout("slow"), "no connection within 2 s"),
        (requests.ReadTimeout("slow"), "no answer within 2 s"),
        (requests.exceptions.SSLError("bad cert"), "TLS handshake failed"),
    ],
)
@responses.activate
def test_no_answer_is_tried_again(transport, error: Exception, reason: str) -> None:
    responses.post(URL, body=error)
    assert transport.send(message(), endpoint()) == TryAgain(reason)


def test_an_address_that_is_not_http_is_a_configuration_error(transport) -> None:
    result = transport.send(message(), endpoint(address="mesh://X26ABC1"))
    assert isinstance(result, Rejected) and result.reason.startswith("configuration:")


# --- bearer tokens ------------------------------------------------------------------------


@responses.activate
def test_bearer_token_from_an_environment_variable(transport, monkeypatch) -> None:
    monkeypatch.setenv("PARTNER_TOKEN", "s3cret-token")
    responses.post(URL, status=200)
    transport.send(message(), endpoint(("type", "bearer"), ("token-env", "PARTNER_TOKEN")))
    assert responses.calls[0].request.headers["Authorization"] == "Bearer s3cret-token"


@responses.activate
def test_bearer_token_from_a_file(transport, tmp_path: Path) -> None:
    (tmp_path / "token").write_text("file-token\n")
    responses.post(URL, status=200)
    auth = endpoint(("type", "bearer"), ("token-file", str(tmp_path / "token")))
    assert isinstance(transport.send(message(), auth), Delivered)
    assert responses.calls[0].request.headers["Authorization"] == "Bearer file-token"


def test_an_unset_token_variable_is_a_configuration_error_naming_it(transport, monkeypatch):
    monkeypatch.delenv("PARTNER_TOKEN", raising=False)
    result = transport.send(message(), endpoint(("type", "bearer"), ("token-env", "PARTNER_TOKEN")))
    assert result == Rejected(
        "configuration: token-env: environment variable PARTNER_TOKEN is not set"
    )


@responses.activate
def test_a_401_with_a_static_bearer_token_is_rejected_at_once(transport, monkeypatch) -> None:
    monkeypatch.setenv("PARTNER_TOKEN", "s3cret-token")
    responses.post(URL, json=outcome("login"), status=401)
    result = transport.send(message(), endpoint(("type", "bearer"), ("token-env", "PARTNER_TOKEN")))
    assert isinstance(result, Rejected) and result.status_code == 401
    assert "s3cret" not in result.reason and len(responses.calls) == 1


# --- OAuth2 client credentials -------------------------------------------------------------


@pytest.fixture
def oauth_endpoint(tmp_path: Path) -> dict:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    (tmp_path / "client.pem").write_bytes(pem)
    return endpoint(
        ("type", "oauth2-client-credentials"),
        ("token-url", TOKEN_URL),
        ("client-id", "ld-adapter-rre"),
        ("key-id", "key-1"),
        ("private-key-file", str(tmp_path / "client.pem")),
    )


def _token(value: str, expires_in: object = 599) -> dict:
    return {"access_token": value, "expires_in": expires_in, "token_type": "Bearer"}


@responses.activate
def test_oauth_token_is_fetched_once_and_reused(transport, oauth_endpoint) -> None:
    responses.post(TOKEN_URL, json=_token("access-1", "599"))
    responses.post(URL, status=200)
    transport.send(message(), oauth_endpoint)
    transport.send(message(), oauth_endpoint)
    token_calls = [c for c in responses.calls if c.request.url == TOKEN_URL]
    assert len(token_calls) == 1
    form = dict(p.split("=", 1) for p in token_calls[0].request.body.split("&"))
    assert form["grant_type"] == "client_credentials"
    assert "jwt-bearer" in form["client_assertion_type"]
    sends = [c for c in responses.calls if c.request.url == URL]
    assert [c.request.headers["Authorization"] for c in sends] == ["Bearer access-1"] * 2


@responses.activate
def test_a_401_gets_one_fresh_token_and_the_same_request_id(transport, oauth_endpoint) -> None:
    responses.post(TOKEN_URL, json=_token("revoked"))
    responses.post(TOKEN_URL, json=_token("fresh"))
    responses.post(URL, json=outcome("login"), status=401)
    responses.post(URL, status=200)
    sent = message()
    assert isinstance(transport.send(sent, oauth_endpoint), Delivered)
    sends = [c.request for c in responses.calls if c.request.url == URL]
    assert [r.headers["Authorization"] for r in sends] == ["Bearer revoked", "Bearer fresh"]
    assert {r.headers["X-Request-Id"] for r in sends} == {sent.request_id}


@responses.activate
def test_a_second_401_is_rejected(transport, oauth_endpoint) -> None:
    responses.post(TOKEN_URL, json=_token("refused"))
    responses.post(URL, json=outcome("login"), status=401)
    result = transport.send(message(), oauth_endpoint)
    assert isinstance(result, Rejected) and result.status_code == 401
    assert len([c for c in responses.calls if c.request.url == URL]) == 2


@responses.activate
def test_a_token_endpoint_outage_is_tried_again(transport, oauth_endpoint) -> None:
    responses.post(TOKEN_URL, status=503)
    assert transport.send(message(), oauth_endpoint) == TryAgain("token endpoint answered HTTP 503")


@responses.activate
def test_a_refused_client_assertion_is_rejected_with_the_oauth_error(transport, oauth_endpoint):
    responses.post(
        TOKEN_URL, json={"error": "invalid_client", "error_description": PATIENT_TEXT}, status=401
    )
    result = transport.send(message(), oauth_endpoint)
    assert result == Rejected("token endpoint refused: HTTP 401 invalid_client")
    assert not [c for c in responses.calls if c.request.url == URL]


def test_an_unreadable_private_key_is_a_configuration_error(transport, oauth_endpoint, tmp_path):
    (tmp_path / "client.pem").write_text("not a key")
    result = transport.send(message(), oauth_endpoint)
    assert result == Rejected("configuration: the private key cannot sign an RS512 assertion")
