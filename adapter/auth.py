"""OAuth2 bearer JWTs with SMART v2 system scopes (`system/ServiceRequest.rs`, `system/*.cruds`).

HS256 with a development key generated under LD_ADAPTER_HOME by default, so `ld-adapter serve` and
`ld-adapter token` agree with no setup; RS256 with a JWKS (file or URL) in production.

A granular scope with a restriction (`system/Patient.rs?identifier=...`) is never widened: it grants
nothing here, and a request only it would cover is refused with a 403 that says so.
"""

from __future__ import annotations

import os
import secrets
import time
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import jwt
from flask import g, request

from adapter.errors import Forbidden, Issue, Unauthorized
from adapter.exchange.partner_clients import token_client
from adapter.settings import Settings

INTERACTIONS = "cruds"
_V1_PERMISSIONS = {"read": "rs", "write": "cud", "*": INTERACTIONS}


@dataclass(frozen=True)
class Grant:
    """What one scope allows: a resource type (or `*`) and SMART interaction letters."""

    resource_type: str
    interactions: str
    restricted: bool = False

    def covers(self, resource_type: str, interaction: str) -> bool:
        """True if the scope names the interaction on the type, restricted or not."""
        return self.resource_type in ("*", resource_type) and interaction in self.interactions

    def allows(self, resource_type: str, interaction: str) -> bool:
        """True if this grant allows the interaction on every resource of the type."""
        return not self.restricted and self.covers(resource_type, interaction)


def parse_scopes(scope_claim: str | list[str] | None) -> list[Grant]:
    """Read the `system/...` scopes of a token; patient/ and user/ scopes grant nothing here."""
    if scope_claim is None:
        return []
    scopes = scope_claim.split() if isinstance(scope_claim, str) else scope_claim
    grants = []
    for scope in scopes:
        if not isinstance(scope, str) or not scope.startswith("system/") or "." not in scope:
            continue
        resource_type, _, permissions = scope[len("system/") :].partition(".")
        permissions, restricted, _ = permissions.partition("?")
        letters = _V1_PERMISSIONS.get(permissions, permissions)
        if letters and all(letter in INTERACTIONS for letter in letters):
            grants.append(Grant(resource_type, letters, bool(restricted)))
    return grants


def scope_is_well_formed(scope: str) -> bool:
    """True for a SMART system scope this adapter understands."""
    return bool(parse_scopes(scope))


class TokenVerifier:
    """Checks bearer tokens against the configured key or JWKS."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @cached_property
    def _hs256_key(self) -> bytes:
        assert self.settings.jwt_signing_key_file is not None
        return ensure_dev_key(self.settings.jwt_signing_key_file)

    @cached_property
    def _jwks_client(self) -> jwt.PyJWKClient | None:
        if self.settings.jwks_url:
            return jwt.PyJWKClient(self.settings.jwks_url, cache_keys=True, lifespan=300)
        return None

    @cached_property
    def _jwks_file_keys(self) -> jwt.PyJWKSet | None:
        if self.settings.jwks_file:
            return jwt.PyJWKSet.from_json(Path(self.settings.jwks_file).read_text())
        return None

    def _key_for(self, token: str) -> object:
        if self.settings.jwt_algorithm == "HS256":
            return self._hs256_key
        if self._jwks_client is not None:
            return self._jwks_client.get_signing_key_from_jwt(token).key
        assert self._jwks_file_keys is not None
        kid = jwt.get_unverified_header(token).get("kid")
        for key in self._jwks_file_keys.keys:
            if kid is None or key.key_id == kid:
                return key.key
        raise jwt.InvalidTokenError("no key in the JWKS matches the token's kid")

    def verify(self, token: str) -> dict:
        """The token's claims, or Unauthorized."""
        try:
            claims = jwt.decode(
                token,
                self._key_for(token),  # type: ignore[arg-type]
                algorithms=[self.settings.jwt_algorithm],
                audience=self.settings.jwt_audience,
                issuer=self.settings.jwt_issuer,
                options={"require": ["exp"], "verify_aud": bool(self.settings.jwt_audience)},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthorized("The bearer token has expired.", code="expired") from None
        except (jwt.InvalidTokenError, jwt.PyJWKClientError, ValueError):
            raise Unauthorized("The bearer token is not valid.", code="login") from None
        self._check_lifetime(claims)
        return claims

    def _check_lifetime(self, claims: dict) -> None:
        """Refuse tokens meant to live longer than the configured maximum (exp - iat, or - now)."""
        issued = claims.get("iat")
        start = issued if isinstance(issued, int | float) else time.time()
        limit = self.settings.max_token_lifetime
        if claims["exp"] - start > limit:
            raise Unauthorized(
                f"The bearer token lives longer than this server accepts ({limit} seconds at most);"
                " ask for a shorter-lived token.",
                code="login",
            )


def ensure_dev_key(path: Path) -> bytes:
    """Read a development key (tokens, console cookies), creating it owner-only on first use."""
    path = Path(path)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process made it first; read theirs
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_hex(32))
    return path.read_text().strip().encode()


def mint_dev_token(
    settings: Settings, scopes: list[str], subject: str = "ld-adapter-dev", lifetime: int = 3600
) -> str:
    """A development token signed with the HS256 key (production tokens come from your IdP)."""
    if settings.jwt_algorithm != "HS256":
        raise ValueError("development tokens need LD_ADAPTER_JWT_ALGORITHM=HS256")
    assert settings.jwt_signing_key_file is not None
    now = int(time.time())
    claims: dict[str, object] = {
        "sub": subject,
        "iat": now,
        "exp": now + lifetime,
        "scope": " ".join(scopes),
        "jti": secrets.token_hex(8),
    }
    if settings.jwt_audience:
        claims["aud"] = settings.jwt_audience
    if settings.jwt_issuer:
        claims["iss"] = settings.jwt_issuer
    return jwt.encode(claims, ensure_dev_key(settings.jwt_signing_key_file), algorithm="HS256")


def authenticate(verifier: TokenVerifier) -> None:
    """Check the request's bearer token and keep its grants on `flask.g`."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized(
            "A bearer token is required (Authorization: Bearer <JWT>).", code="login"
        )
    claims = verifier.verify(token.strip())
    g.token_subject = claims.get("sub")
    g.token_claims = claims
    g.grants = parse_scopes(claims.get("scope", claims.get("scp")))


def refuse_partner_client(partner_clients: frozenset[str]) -> None:
    """Forbidden if the token's client is bound to a partner: partners may only send messages."""
    client = token_client(g.get("token_claims") or {})
    if client is not None and client in partner_clients:
        raise Forbidden(
            "This client is bound to a partner: it may call $process-message and nothing else."
        )


def has_scope(resource_type: str, interaction: str) -> bool:
    """True if the current token grants the interaction (c r u d s) on the type."""
    return any(grant.allows(resource_type, interaction) for grant in g.get("grants", []))


def require_scope(resource_type: str, interaction: str) -> None:
    """Raise Forbidden unless the current token grants the interaction on the type."""
    require_scopes((resource_type, interaction))


def require_scopes(*needed: tuple[str, str]) -> None:
    """Raise Forbidden, naming every missing scope, unless the token grants all of them."""
    issues = [_missing(t, i) for t, i in dict.fromkeys(needed) if not has_scope(t, i)]
    if issues:
        raise Forbidden(issues)


def _missing(resource_type: str, interaction: str) -> Issue:
    scope = f"system/{resource_type}.{interaction}"
    if any(grant.covers(resource_type, interaction) for grant in g.get("grants", [])):
        why = (
            f"This needs the scope {scope} without a restriction: this server does not apply "
            "scope restrictions (?param=value), so it refuses rather than widen them."
        )
    else:
        why = f"This needs the scope {scope} (or a wider one)."
    return Issue(why, code="forbidden")
