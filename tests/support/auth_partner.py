"""A partner on 127.0.0.1 that checks credentials as real ones do, and the keys to reach it.

    pki = make_pki(tmp_path)                       # a CA, a server and a client certificate
    with AuthPartner(bearer="s3cret") as partner:  # or oauth_public_key=..., tls=pki
        partner.base, partner.token_url ...

`POST {base}/$process-message` answers 200 only with the right credentials (else 401);
`POST /oauth2/token` is an OAuth2 client-credentials token endpoint that verifies the RS512 client
assertion with the client's public key, as NHS England's does. With `tls=pki`, the server speaks
HTTPS and requires a client certificate signed by the test CA.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import secrets
import ssl
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from urllib.parse import parse_qsl

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


@dataclass(frozen=True)
class Pki:
    """PEM files: a CA, a server certificate for 127.0.0.1 and a client certificate."""

    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path


def rsa_key() -> rsa.RSAPrivateKey:
    """A new 2048-bit RSA key."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def pem(key: rsa.RSAPrivateKey) -> bytes:
    """A private key as unencrypted PKCS#8 PEM."""
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _certificate(
    subject: str,
    key: rsa.RSAPrivateKey,
    issuer: tuple[x509.Name, rsa.RSAPrivateKey] | None,
    is_ca: bool = False,
    server: bool = False,
) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    issuer_name, signing_key = issuer if issuer else (name, key)
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=is_ca, path_length=None), critical=True)
    )
    if server:
        san = x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))])
        builder = builder.add_extension(san, critical=False)
    return builder.sign(signing_key, hashes.SHA256())


def make_pki(directory: Path, client_ca: bool = True) -> Pki:
    """Write a CA, a server cert (127.0.0.1) and a client cert (signed by that CA, or not)."""
    ca_key, server_key, client_key = rsa_key(), rsa_key(), rsa_key()
    ca = _certificate("ld-adapter test CA", ca_key, None, is_ca=True)
    issuer = (ca.subject, ca_key)
    server = _certificate("127.0.0.1", server_key, issuer, server=True)
    client_issuer = issuer if client_ca else None  # self-signed: the partner will not trust it
    client = _certificate("ld-adapter test client", client_key, client_issuer)
    files = {
        "ca": ca.public_bytes(serialization.Encoding.PEM),
        "server_cert": server.public_bytes(serialization.Encoding.PEM),
        "server_key": pem(server_key),
        "client_cert": client.public_bytes(serialization.Encoding.PEM),
        "client_key": pem(client_key),
    }
    directory.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (directory / f"{name}.pem").write_bytes(data)
    return Pki(**{name: directory / f"{name}.pem" for name in files})


@dataclass
class _State:
    lock: threading.Lock = field(default_factory=threading.Lock)
    bearer: str | None = None
    client_id: str | None = None
    oauth_public_key: rsa.RSAPublicKey | None = None
    issued: set[str] = field(default_factory=set)
    used_jti: set[str] = field(default_factory=set)
    token_requests: int = 0
    accepted: list[dict] = field(default_factory=list)  # headers of accepted messages
    refused: int = 0
    token_url: str = ""


class AuthPartner:
    """A threaded HTTP(S) partner that checks a bearer token, OAuth2 tokens or a client cert."""

    def __init__(
        self,
        bearer: str | None = None,
        oauth_public_key: rsa.RSAPublicKey | None = None,
        client_id: str = "ld-adapter-rre",
        tls: Pki | None = None,
    ) -> None:
        self._state = _State(bearer=bearer, client_id=client_id, oauth_public_key=oauth_public_key)
        self._tls = tls
        self._server: ThreadingHTTPServer | None = None

    @property
    def base(self) -> str:
        """The partner's FHIR base."""
        return f"{self._scheme}://127.0.0.1:{self.port}/fhir"

    @property
    def token_url(self) -> str:
        """The OAuth2 token endpoint."""
        return f"{self._scheme}://127.0.0.1:{self.port}/oauth2/token"

    @property
    def _scheme(self) -> str:
        return "https" if self._tls else "http"

    def __enter__(self) -> AuthPartner:
        handler = type("Handler", (_Handler,), {"state": self._state})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._state.token_url = self.token_url
        if self._tls:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(self._tls.server_cert, self._tls.server_key)
            context.load_verify_locations(self._tls.ca)
            context.verify_mode = ssl.CERT_REQUIRED
            self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()

    def revoke_tokens(self) -> None:
        """Forget every access token issued (as if they were revoked before expiry)."""
        with self._state.lock:
            self._state.issued.clear()

    @property
    def token_requests(self) -> int:
        """How many tokens were issued."""
        with self._state.lock:
            return self._state.token_requests

    @property
    def accepted(self) -> list[dict]:
        """Headers of each accepted message."""
        with self._state.lock:
            return list(self._state.accepted)

    @property
    def refused(self) -> int:
        """How many messages got 401."""
        with self._state.lock:
            return self._state.refused


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # see partner_server: two writes per answer
    state: _State

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path == "/oauth2/token":
            self._token(dict(parse_qsl(body.decode())))
        elif self.path == "/fhir/$process-message":
            self._message()
        else:
            self._answer(404, {"resourceType": "OperationOutcome", "issue": []})

    def _message(self) -> None:
        given = self.headers.get("Authorization", "")
        with self.state.lock:
            if self.state.bearer is not None:
                allowed = given == f"Bearer {self.state.bearer}"
            elif self.state.oauth_public_key is not None:
                allowed = given.removeprefix("Bearer ") in self.state.issued
            else:
                allowed = True  # mutual TLS: the handshake already checked the client
            if allowed:
                self.state.accepted.append(dict(self.headers))
            else:
                self.state.refused += 1
        code = "informational" if allowed else "login"
        outcome = {
            "resourceType": "OperationOutcome",
            "issue": [{"severity": "error", "code": code}],
        }
        self._answer(200 if allowed else 401, outcome)

    def _token(self, form: dict[str, str]) -> None:
        if form.get("grant_type") != "client_credentials":
            self._answer(400, {"error": "unsupported_grant_type"})
            return
        if form.get("client_assertion_type") != ASSERTION_TYPE or not self._assertion_ok(
            form.get("client_assertion", "")
        ):
            self._answer(401, {"error": "invalid_client"})
            return
        token = secrets.token_urlsafe(16)
        with self.state.lock:
            self.state.issued.add(token)
            self.state.token_requests += 1
        self._answer(200, {"access_token": token, "expires_in": "599", "token_type": "Bearer"})

    def _assertion_ok(self, assertion: str) -> bool:
        """RS512 by the client's key; iss = sub = client id, aud = us; short-lived; new jti."""
        assert self.state.oauth_public_key is not None
        try:
            claims = jwt.decode(
                assertion,
                self.state.oauth_public_key,
                algorithms=["RS512"],
                audience=self.state.token_url,
                issuer=self.state.client_id,
                options={"require": ["exp", "jti", "sub", "iss", "aud"]},
            )
        except jwt.PyJWTError:
            return False
        with self.state.lock:
            fresh = claims["jti"] not in self.state.used_jti
            self.state.used_jti.add(claims["jti"])
        return bool(
            fresh and claims["sub"] == self.state.client_id and claims["exp"] <= time.time() + 300
        )

    def _answer(self, status: int, body: dict) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)
