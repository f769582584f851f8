"""Console sign-in with OpenID Connect at the trust's identity provider (authlib).

Authorization code flow with PKCE (S256): authlib keeps state, nonce and the code verifier in
the session until the provider sends the user back, then checks the state, exchanges the code
and verifies the ID token against the provider's JWKS (signature, issuer, audience, nonce,
expiry). The user's role comes from one claim (LD_ADAPTER_OIDC_ROLE_CLAIM) through
LD_ADAPTER_OIDC_ROLES; a user with no mapped role is refused, and the refusal is audited.
"""

from __future__ import annotations

import logging

import requests
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.flask_client import OAuth
from flask import Blueprint, Flask, current_app, g, redirect, render_template, request, session
from joserfc.errors import JoseError
from werkzeug.wrappers import Response

from adapter.api.context import current_settings
from adapter.api.http import public
from adapter.console.session import current_user, sign_in
from adapter.console.sign_in import OIDC_ENDPOINT_KEY
from adapter.settings import Settings

log = logging.getLogger(__name__)
oidc_blueprint = Blueprint("console_oidc", __name__)
_CLIENT_KEY = "ld_oidc_client"
_NEXT_KEY = "console_oidc_next"
_HOME = "/console/"


def init_app(app: Flask, settings: Settings) -> None:
    """Offer OpenID Connect sign-in on the console when an issuer is configured."""
    if not settings.oidc_issuer:
        return
    oauth = OAuth(app)
    app.extensions[_CLIENT_KEY] = oauth.register(
        "trust",
        client_id=settings.oidc_client_id,
        client_secret=settings.oidc_client_secret,  # from the variable or its file
        server_metadata_url=f"{settings.oidc_issuer.rstrip('/')}/.well-known/openid-configuration",
        client_kwargs={
            "scope": settings.oidc_scopes,
            "code_challenge_method": "S256",
            "timeout": 10,
        },
    )
    app.config[OIDC_ENDPOINT_KEY] = "console_oidc.login"
    app.register_blueprint(oidc_blueprint, url_prefix="/console/oidc")


@oidc_blueprint.get("/login")
@public
def login() -> Response | tuple[str, int]:
    """Send the user to the provider (state, nonce and PKCE verifier kept in the session)."""
    wanted = request.args.get("next", "")
    session[_NEXT_KEY] = wanted if wanted.startswith(_HOME) and "//" not in wanted else _HOME
    callback = f"{current_settings().oidc_redirect_base}/console/oidc/callback"
    try:
        return current_app.extensions[_CLIENT_KEY].authorize_redirect(callback)
    except requests.RequestException as error:  # discovery failed: the provider is down
        return _unavailable(error)


@oidc_blueprint.get("/callback")
@public
def callback() -> Response | tuple[str, int]:
    """The provider sent the user back: check everything, then sign in with the mapped role."""
    settings = current_settings()
    next_page = session.get(_NEXT_KEY, _HOME)
    try:
        token = current_app.extensions[_CLIENT_KEY].authorize_access_token(
            claims_options=id_token_claims_options(settings.oidc_issuer, settings.oidc_client_id)
        )
    except (OAuthError, JoseError) as error:  # state, code, signature or a claim is wrong
        return _refused("The sign-in could not be completed; try again.", error)
    except requests.RequestException as error:
        return _unavailable(error)
    claims = token.get("userinfo") or {}
    role = role_for(claims.get(settings.oidc_role_claim), settings.oidc_role_map)
    if not claims.get("sub"):
        return _refused("The identity provider sent no ID token; ask an administrator.")
    if role is None:
        return _refused("Your account has no role in this console; ask an administrator.")
    sign_in(str(claims["sub"]), str(claims.get("name") or claims["sub"]), role)
    g.console_user = current_user()  # the audit names who signed in
    return redirect(next_page)


def id_token_claims_options(issuer: str, client_id: str) -> dict:
    """The ID token must come from our issuer and name our client in `aud` (authlib checks)."""
    return {
        "iss": {"essential": True, "values": [issuer]},
        "aud": {"essential": True, "values": [client_id]},
    }


def role_for(claimed: object, role_map: dict[str, str]) -> str | None:
    """The console role of the first mapping entry the claim holds (a list or one string).

    A claim of any other JSON type (a number, a boolean, an object, a list holding anything
    but strings) gives no role, so the sign-in is refused rather than guessed at.
    """
    if isinstance(claimed, str):
        values = {claimed}
    elif isinstance(claimed, list) and all(isinstance(value, str) for value in claimed):
        values = set(claimed)
    else:
        return None
    return next((role for value, role in role_map.items() if value in values), None)


def _refused(message: str, error: Exception | None = None) -> tuple[str, int]:
    """403: not signed in. The log names the kind of failure, never a claim or a token."""
    session.pop(_NEXT_KEY, None)
    log.warning("console sign-in refused%s", f": {type(error).__name__}" if error else "")
    return render_template("console/error.html", status=403, message=message), 403


def _unavailable(error: Exception) -> tuple[str, int]:
    log.warning("identity provider unreachable: %s", type(error).__name__)
    message = "The sign-in service cannot be reached just now; try again shortly."
    return render_template("console/error.html", status=503, message=message), 503
