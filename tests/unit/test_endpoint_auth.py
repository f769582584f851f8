"""ld-endpoint-auth: what an Endpoint may say about authentication, and the OAuth2 token cache."""

from __future__ import annotations

import time
from pathlib import Path

import jwt
import pytest
import requests
import responses
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from adapter.exchange.endpoint_auth import (
    AuthConfigError,
    Credentials,
    EndpointAuth,
    client_assertion,
    endpoint_auth,
    missing_files,
)

AUTH_URL = "https://ld-adapter.github.io/fhir/StructureDefinition/ld-endpoint-auth"
TOKEN_URL = "https://auth.partner.example.org/oauth2/token"


def with_auth(*parts: tuple[str, str]) -> dict:
    extension = [{"url": name, "valueString": value} for name, value in parts]
    if extension and extension[0]["url"] == "type":
        extension[0] = {"url": "type", "valueCode": parts[0][1]}
    return {"resourceType": "Endpoint", "extension": [{"url": AUTH_URL, "extension": extension}]}


def test_no_extension_means_no_authentication() -> None:
    assert endpoint_auth({"resourceType": "Endpoint"}) == EndpointAuth(type="none")


def test_every_part_is_read() -> None:
    auth = endpoint_auth(
        with_auth(
            ("type", "oauth2-client-credentials"),
            ("token-url", TOKEN_URL),
            ("client-id", "ld-adapter"),
            ("key-id", "k1"),
            ("private-key-env", "PARTNER_KEY"),
            ("cert-file", "/etc/ld/client.crt"),
            ("key-file", "/etc/ld/client.key"),
            ("ca-file", "/etc/ld/ca.pem"),
        )
    )
    assert auth.type == "oauth2-client-credentials" and auth.private_key_env == "PARTNER_KEY"
    assert (auth.cert_file, auth.key_file, auth.ca_file) == (
        Path("/etc/ld/client.crt"),
        Path("/etc/ld/client.key"),
        Path("/etc/ld/ca.pem"),
    )


@pytest.mark.parametrize(
    ("parts", "message"),
    [
        ((("type", "basic"),), "type must be one of"),
        ((("type", "bearer"),), "exactly one of token-env and token-file"),
        ((("type", "bearer"), ("token-env", "A"), ("token-file", "/b")), "exactly one of"),
        ((("type", "oauth2-client-credentials"), ("client-id", "x")), "token-url and client-id"),
        (
            (("type", "oauth2-client-credentials"), ("token-url", TOKEN_URL), ("client-id", "x")),
            "private-key-file and private-key-env",
        ),
        ((("type", "mutual-tls"), ("cert-file", "/c")), "cert-file and key-file"),
        ((("type", "none"), ("key-file", "/k")), "both cert-file and key-file"),
        ((("type", "bearer"), ("password", "hunter2")), "unknown part 'password'"),
        ((("type", "bearer"), ("token-env", " ")), "needs a text value"),
    ],
)
def test_incomplete_configurations_say_what_is_missing(parts, message: str) -> None:
    with pytest.raises(AuthConfigError, match=message):
        endpoint_auth(with_auth(*parts))


def test_start_up_checks_named_files_but_not_variables(tmp_path: Path) -> None:
    (tmp_path / "client.crt").write_text("cert")
    auth = EndpointAuth(
        type="mutual-tls",
        cert_file=tmp_path / "client.crt",
        key_file=tmp_path / "client.key",
        token_env="NOT_SET_ANYWHERE",
    )
    assert missing_files(auth) == [f"key-file {tmp_path / 'client.key'} does not exist"]


def _pem_key() -> tuple[str, rsa.RSAPrivateKey]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return pem.decode(), key


def test_the_client_assertion_is_what_nhs_token_endpoints_expect(monkeypatch) -> None:
    pem, key = _pem_key()
    monkeypatch.setenv("PARTNER_KEY", pem)
    auth = EndpointAuth(
        type="oauth2-client-credentials",
        token_url=TOKEN_URL,
        client_id="ld-adapter-rre",
        key_id="key-1",
        private_key_env="PARTNER_KEY",
    )
    now = int(time.time())
    assertion = client_assertion(auth, now)
    assert jwt.get_unverified_header(assertion) == {"alg": "RS512", "typ": "JWT", "kid": "key-1"}
    claims = jwt.decode(
        assertion,
        key.public_key(),
        algorithms=["RS512"],
        audience=TOKEN_URL,
    )
    assert claims["iss"] == claims["sub"] == "ld-adapter-rre"
    assert claims["exp"] - now == 300 and len(claims["jti"]) == 36
    assert client_assertion(auth, now) != assertion  # a new jti each time


@responses.activate
def test_a_cached_token_is_renewed_shortly_before_it_expires(monkeypatch) -> None:
    pem, _ = _pem_key()
    monkeypatch.setenv("PARTNER_KEY", pem)
    auth = EndpointAuth(
        type="oauth2-client-credentials",
        token_url=TOKEN_URL,
        client_id="ld-adapter",
        private_key_env="PARTNER_KEY",
    )
    responses.post(TOKEN_URL, json={"access_token": "first", "expires_in": 600})
    responses.post(TOKEN_URL, json={"access_token": "second", "expires_in": 600})
    now = [1000.0]
    credentials = Credentials(requests.Session(), (1, 1), clock=lambda: now[0])
    assert credentials.headers(auth) == {"Authorization": "Bearer first"}
    now[0] += 569  # 31 s before expiry: still good
    assert credentials.headers(auth) == {"Authorization": "Bearer first"}
    now[0] += 2  # 29 s before expiry: renewed
    assert credentials.headers(auth) == {"Authorization": "Bearer second"}
    assert len(responses.calls) == 2
