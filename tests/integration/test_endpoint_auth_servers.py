"""The transport authenticates to real servers on 127.0.0.1: bearer, OAuth2 JWT assertion, mTLS."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from adapter.exchange.http_transport import FhirMessagingTransport
from adapter.exchange.model import Delivered, OutboundMessage, Rejected, TryAgain
from adapter.settings import Settings
from tests.support.auth_partner import AuthPartner, make_pki, pem, rsa_key

AUTH_URL = "https://ld-adapter.github.io/fhir/StructureDefinition/ld-endpoint-auth"


def message() -> OutboundMessage:
    return OutboundMessage(
        id=str(uuid.uuid4()),
        request_id=str(uuid.uuid4()),
        correlation_id=str(uuid.uuid4()),
        endpoint_id="partner",
        transport="fhir-messaging",
        ordering_key="partner|person",
        kind="onward-referral",
        body={"resourceType": "Bundle", "type": "message", "entry": []},
    )


def endpoint(address: str, *parts: tuple[str, str]) -> dict:
    resource: dict = {"resourceType": "Endpoint", "id": "partner", "address": address}
    if parts:
        extension = [{"url": "type", "valueCode": parts[0][1]}]
        extension += [{"url": name, "valueString": value} for name, value in parts[1:]]
        resource["extension"] = [{"url": AUTH_URL, "extension": extension}]
    return resource


@pytest.fixture
def transport(tmp_path: Path):  # type: ignore[no-untyped-def]
    sender = FhirMessagingTransport(Settings(home=tmp_path, delivery_timeout=5))
    yield sender
    sender.close()


def test_a_bearer_token_from_the_environment_is_accepted(transport, monkeypatch) -> None:
    monkeypatch.setenv("PARTNER_TOKEN", "s3cret")
    with AuthPartner(bearer="s3cret") as partner:
        target = endpoint(partner.base, ("type", "bearer"), ("token-env", "PARTNER_TOKEN"))
        assert isinstance(transport.send(message(), target), Delivered)
        monkeypatch.setenv("PARTNER_TOKEN", "wrong")
        refused = transport.send(message(), target)
    assert isinstance(refused, Rejected) and refused.status_code == 401
    assert "wrong" not in refused.reason and len(partner.accepted) == 1


def _oauth(partner: AuthPartner, key_file: Path) -> dict:
    return endpoint(
        partner.base,
        ("type", "oauth2-client-credentials"),
        ("token-url", partner.token_url),
        ("client-id", "ld-adapter-rre"),
        ("key-id", "ld-adapter-rre-1"),
        ("private-key-file", str(key_file)),
    )


def test_oauth2_with_a_signed_assertion_gets_a_token_and_reuses_it(transport, tmp_path) -> None:
    key = rsa_key()
    (tmp_path / "client.pem").write_bytes(pem(key))
    with AuthPartner(oauth_public_key=key.public_key()) as partner:
        target = _oauth(partner, tmp_path / "client.pem")
        results = [transport.send(message(), target) for _ in range(3)]
        assert all(isinstance(r, Delivered) for r in results)
        assert partner.token_requests == 1
        partner.revoke_tokens()  # the partner forgets the token before it expires
        sent = message()
        assert isinstance(transport.send(sent, target), Delivered)
    assert partner.token_requests == 2 and partner.refused == 1
    assert partner.accepted[-1]["X-Request-Id"] == sent.request_id


def test_an_assertion_signed_with_another_key_is_refused(transport, tmp_path) -> None:
    (tmp_path / "client.pem").write_bytes(pem(rsa_key()))
    with AuthPartner(oauth_public_key=rsa_key().public_key()) as partner:
        result = transport.send(message(), _oauth(partner, tmp_path / "client.pem"))
    assert result == Rejected("token endpoint refused: HTTP 401 invalid_client")
    assert partner.accepted == []


def _mtls(partner: AuthPartner, pki, ca: Path | None = None) -> dict:  # type: ignore[no-untyped-def]
    return endpoint(
        partner.base,
        ("type", "mutual-tls"),
        ("cert-file", str(pki.client_cert)),
        ("key-file", str(pki.client_key)),
        ("ca-file", str(ca or pki.ca)),
    )


def test_mutual_tls_with_a_client_certificate_the_partner_trusts(transport, tmp_path, monkeypatch):
    # Set on these machines; the transport must not let it replace the Endpoint's CA.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tmp_path / "no-such-bundle.pem"))
    pki = make_pki(tmp_path / "pki")
    with AuthPartner(tls=pki) as partner:
        assert partner.base.startswith("https://")
        assert isinstance(transport.send(message(), _mtls(partner, pki)), Delivered)
    assert len(partner.accepted) == 1


def test_without_a_trusted_client_certificate_nothing_is_delivered(transport, tmp_path) -> None:
    pki = make_pki(tmp_path / "pki")
    stranger = make_pki(tmp_path / "stranger", client_ca=False)
    with AuthPartner(tls=pki) as partner:
        no_certificate = endpoint(partner.base, ("type", "none"), ("ca-file", str(pki.ca)))
        untrusted = _mtls(partner, stranger, ca=pki.ca)
        results = [transport.send(message(), no_certificate), transport.send(message(), untrusted)]
    assert all(isinstance(r, TryAgain) for r in results), results
    assert partner.accepted == []


def test_a_partner_certificate_from_an_unknown_ca_is_not_trusted(transport, tmp_path) -> None:
    pki = make_pki(tmp_path / "pki")
    other = make_pki(tmp_path / "other")
    with AuthPartner(tls=pki) as partner:
        result = transport.send(message(), _mtls(partner, pki, ca=other.ca))
    assert result == TryAgain("TLS handshake failed")
    assert partner.accepted == []


def test_the_hosts_requests_ca_bundle_is_ignored(transport, tmp_path, monkeypatch) -> None:
    pki = make_pki(tmp_path / "pki")
    # With the environment trusted, requests would take the test CA from here and connect.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(pki.ca))
    with AuthPartner(tls=pki) as partner:
        target = endpoint(
            partner.base,
            ("type", "mutual-tls"),
            ("cert-file", str(pki.client_cert)),
            ("key-file", str(pki.client_key)),
        )
        assert transport.send(message(), target) == TryAgain("TLS handshake failed")
    assert partner.accepted == []
