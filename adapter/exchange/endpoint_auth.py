"""How the adapter authenticates to a partner Endpoint: read from its ld-endpoint-auth extension.

The extension names where each secret lives (an environment variable or a file), never the secret:
bearer tokens, the RSA key that signs OAuth2 client assertions (RS512, as NHS England APIs expect),
client certificates for mutual TLS. `endpoint_auth(endpoint)` reads and checks the extension;
`Credentials` turns it into request headers and TLS settings, caching OAuth2 access tokens.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path

import jwt
import requests

from adapter.mapping import codes

NONE, BEARER, OAUTH2, MUTUAL_TLS = "none", "bearer", "oauth2-client-credentials", "mutual-tls"
TYPES = (NONE, BEARER, OAUTH2, MUTUAL_TLS)
CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ASSERTION_LIFETIME = 300  # NHS England's token endpoints refuse assertions living over 5 minutes
# Renew a cached access token this long before it expires (or half its life, if shorter).
RENEW_MARGIN = 30.0
FILE_PARTS = ("token_file", "private_key_file", "cert_file", "key_file", "ca_file")


class AuthConfigError(ValueError):
    """An Endpoint's authentication is incomplete, or a secret it names cannot be read."""


class TokenUnavailable(Exception):
    """The OAuth2 token endpoint gave no token; `transient` says whether retrying may help."""

    def __init__(self, reason: str, transient: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.transient = transient


@dataclass(frozen=True)
class EndpointAuth:
    """Where one Endpoint's credentials come from (names of variables and files only)."""

    type: str = NONE
    token_env: str | None = None
    token_file: Path | None = None
    token_url: str | None = None
    client_id: str | None = None
    key_id: str | None = None
    private_key_file: Path | None = None
    private_key_env: str | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    ca_file: Path | None = None

    def files(self) -> list[tuple[str, Path]]:
        """The files this configuration names, by extension part."""
        named = ((part, getattr(self, part)) for part in FILE_PARTS)
        return [(part.replace("_", "-"), path) for part, path in named if path is not None]


_PARTS = {f.name.replace("_", "-"): f.name for f in fields(EndpointAuth) if f.name != "type"}


def endpoint_auth(endpoint: dict) -> EndpointAuth:
    """The Endpoint's authentication (no extension: none); AuthConfigError names what is wrong."""
    url = codes.url("partner.endpoint-auth")
    found = [
        e for e in endpoint.get("extension", []) if isinstance(e, dict) and e.get("url") == url
    ]
    if not found:
        return EndpointAuth()
    if len(found) > 1:
        raise AuthConfigError("more than one ld-endpoint-auth extension")
    values: dict[str, object] = {}
    for part in found[0].get("extension", []):
        name = part.get("url") if isinstance(part, dict) else None
        value = _value(part) if name else None
        if name != "type" and name not in _PARTS:
            raise AuthConfigError(f"ld-endpoint-auth has an unknown part {name!r}")
        if not isinstance(value, str) or not value.strip():
            raise AuthConfigError(f"ld-endpoint-auth part {name!r} needs a text value")
        key = "type" if name == "type" else _PARTS[name]
        values[key] = Path(value) if key in FILE_PARTS else value
    auth = EndpointAuth(**values)  # type: ignore[arg-type]
    _check(auth)
    return auth


def _value(part: dict) -> object:
    return next((v for k, v in part.items() if k.startswith("value")), None)


def _check(auth: EndpointAuth) -> None:
    """The parts each type needs: exactly one source per secret, a client cert with its key."""
    if auth.type not in TYPES:
        raise AuthConfigError(f"ld-endpoint-auth type must be one of {', '.join(TYPES)}")
    if auth.type == BEARER and (auth.token_env is None) == (auth.token_file is None):
        raise AuthConfigError("bearer needs exactly one of token-env and token-file")
    if auth.type == OAUTH2:
        if not (auth.token_url and auth.client_id):
            raise AuthConfigError("oauth2-client-credentials needs token-url and client-id")
        if not auth.token_url.startswith(("https://", "http://")):
            raise AuthConfigError("oauth2-client-credentials token-url must be an http(s) URL")
        if (auth.private_key_file is None) == (auth.private_key_env is None):
            why = "needs exactly one of private-key-file and private-key-env"
            raise AuthConfigError(f"oauth2-client-credentials {why}")
    if auth.type == MUTUAL_TLS and not (auth.cert_file and auth.key_file):
        raise AuthConfigError("mutual-tls needs cert-file and key-file")
    if (auth.cert_file is None) != (auth.key_file is None):
        raise AuthConfigError("a client certificate needs both cert-file and key-file")


def missing_files(auth: EndpointAuth) -> list[str]:
    """What start-up checks: each named file exists (variables may be set only where sending)."""
    return [f"{part} {path} does not exist" for part, path in auth.files() if not path.is_file()]


@dataclass
class _Token:
    value: str
    renew_at: float


class Credentials:
    """Headers and TLS settings for requests to partner Endpoints; caches OAuth2 access tokens."""

    def __init__(
        self,
        session: requests.Session,
        timeout: tuple[float, float],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._session = session
        self._timeout = timeout
        self._clock = clock
        self._tokens: dict[tuple[str, str], _Token] = {}
        self._lock = threading.Lock()

    def headers(self, auth: EndpointAuth) -> dict[str, str]:
        """The Authorization header, if the type has one; AuthConfigError or TokenUnavailable."""
        if auth.type == BEARER:
            return {"Authorization": f"Bearer {_bearer_token(auth)}"}
        if auth.type == OAUTH2:
            return {"Authorization": f"Bearer {self._access_token(auth)}"}
        return {}

    def tls(self, auth: EndpointAuth) -> dict:
        """`cert` and `verify` for requests: a client certificate, and which CAs to trust."""
        for part, path in auth.files():
            if part in ("cert-file", "key-file", "ca-file") and not path.is_file():
                raise AuthConfigError(f"{part} {path} does not exist")
        cert = (str(auth.cert_file), str(auth.key_file)) if auth.cert_file else None
        # Chosen on purpose: with trust_env off, REQUESTS_CA_BUNDLE on the host does not apply.
        verify: str | bool = str(auth.ca_file) if auth.ca_file else True
        return {"cert": cert, "verify": verify}

    def forget(self, auth: EndpointAuth) -> None:
        """Drop a cached access token the partner refused (401), so the next one is fresh."""
        with self._lock:
            self._tokens.pop(_token_key(auth), None)

    def _access_token(self, auth: EndpointAuth) -> str:
        key = _token_key(auth)
        with self._lock:
            cached = self._tokens.get(key)
        if cached is not None and self._clock() < cached.renew_at:
            return cached.value
        token = self._fetch_token(auth)
        with self._lock:
            self._tokens[key] = token
        return token.value

    def _fetch_token(self, auth: EndpointAuth) -> _Token:
        """POST a signed client assertion to the token endpoint (client credentials grant)."""
        assert auth.token_url and auth.client_id
        now = self._clock()
        form = {
            "grant_type": "client_credentials",
            "client_assertion_type": CLIENT_ASSERTION_TYPE,
            "client_assertion": client_assertion(auth, now),
        }
        try:
            answer = self._session.post(
                auth.token_url,
                data=form,
                timeout=self._timeout,
                allow_redirects=False,
                **self.tls(auth),
            )
        except requests.Timeout:
            raise TokenUnavailable("token endpoint timed out", transient=True) from None
        except requests.RequestException:
            raise TokenUnavailable("token endpoint unreachable", transient=True) from None
        return _token_from(answer, now)


def _token_key(auth: EndpointAuth) -> tuple[str, str]:
    return (auth.token_url or "", auth.client_id or "")


def _token_from(answer: requests.Response, now: float) -> _Token:
    """The access token in a token endpoint's answer; TokenUnavailable says why not."""
    status = answer.status_code
    if status == 429 or status >= 500:
        raise TokenUnavailable(f"token endpoint answered HTTP {status}", transient=True)
    try:
        body = answer.json()
    except ValueError:
        body = None
    if status != 200 or not isinstance(body, dict) or not body.get("access_token"):
        # The OAuth2 `error` code (invalid_client, …) is safe to keep; descriptions may not be.
        error = body.get("error") if isinstance(body, dict) else None
        why = f" {error}" if isinstance(error, str) and error.isidentifier() else ""
        raise TokenUnavailable(f"token endpoint refused: HTTP {status}{why}", transient=False)
    try:
        lifetime = float(body.get("expires_in", 0))
    except (TypeError, ValueError):
        lifetime = 0.0
    margin = min(RENEW_MARGIN, lifetime / 2)
    return _Token(str(body["access_token"]), now + lifetime - margin)


def client_assertion(auth: EndpointAuth, now: float) -> str:
    """The RS512-signed JWT that authenticates the adapter to the token endpoint."""
    claims = {
        "iss": auth.client_id,
        "sub": auth.client_id,
        "aud": auth.token_url,
        "jti": str(uuid.uuid4()),
        "iat": int(now),
        "exp": int(now) + ASSERTION_LIFETIME,
    }
    headers = {"kid": auth.key_id} if auth.key_id else None
    try:
        return jwt.encode(claims, _private_key(auth), algorithm="RS512", headers=headers)
    except (ValueError, TypeError, jwt.PyJWTError):
        raise AuthConfigError("the private key cannot sign an RS512 assertion") from None


def _private_key(auth: EndpointAuth) -> str:
    if auth.private_key_env:
        return _from_env(auth.private_key_env, "private-key-env")
    assert auth.private_key_file is not None
    return _from_file(auth.private_key_file, "private-key-file")


def _bearer_token(auth: EndpointAuth) -> str:
    if auth.token_env:
        return _from_env(auth.token_env, "token-env")
    assert auth.token_file is not None
    return _from_file(auth.token_file, "token-file")


def _from_env(name: str, part: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        raise AuthConfigError(f"{part}: environment variable {name} is not set")
    return value


def _from_file(path: Path, part: str) -> str:
    try:
        value = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        raise AuthConfigError(f"{part}: {path} cannot be read") from None
    if not value:
        raise AuthConfigError(f"{part}: {path} is empty")
    return value
