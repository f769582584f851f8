"""The operations web console under /console: server-rendered pages behind a cookie session.

Not reachable without signing in; its forms carry a CSRF token. It never accepts a bearer token
and the API never accepts its cookie: create_app's token check skips only this blueprint, and
this blueprint's own check lets no request through without a signed-in user.
"""

from __future__ import annotations

from flask import Blueprint, Flask, g, redirect, render_template, request, url_for
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from adapter.console.session import configure_sessions, current_user
from adapter.errors import AdapterError
from adapter.settings import Settings

console_blueprint = Blueprint(
    "console",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)
# Pages anyone may open: signing in, and the stylesheet it needs.
OPEN_ENDPOINTS = frozenset(
    {"console.sign_in", "console.link", "console.use_link", "console.static"}
)
_csrf = CSRFProtect()


def init_app(app: Flask, settings: Settings) -> None:
    """Add the console to an app: sessions, CSRF on console forms only, the pages."""
    from adapter.console import actions, pages, sign_in, validator  # noqa: F401  (routes)

    configure_sessions(app, settings)
    app.config.update(WTF_CSRF_CHECK_DEFAULT=False, WTF_CSRF_SSL_STRICT=settings.secure_cookies)
    _csrf.init_app(app)
    app.register_blueprint(console_blueprint, url_prefix="/console")
    from adapter.console import oidc

    oidc.init_app(app, settings)


def is_console_request() -> bool:
    """True for a request to the console (it signs in with a session, not a bearer token)."""
    return request.blueprint == console_blueprint.name


@console_blueprint.before_request
def _signed_in_and_protected() -> Response | None:
    """Every console page needs a signed-in user; every console form a valid CSRF token."""
    user = current_user(lifetime=_settings().console_session_seconds)
    g.console_user = user  # first: a refused forged POST is audited as the user it targeted
    if request.method == "POST":
        _csrf.protect()
    if user is None and request.endpoint not in OPEN_ENDPOINTS:
        return redirect(url_for("console.sign_in", next=request.full_path.rstrip("?")))
    return None


@console_blueprint.after_request
def _no_caching(response: Response) -> Response:
    """Console pages hold operational (and, revealed, personal) data: never cached, never framed."""
    if request.endpoint != "console.static":
        response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self';"
        " frame-ancestors 'none'; form-action 'self'"
    )
    return response


@console_blueprint.errorhandler(CSRFError)
def _csrf_failed(error: CSRFError) -> tuple[str, int]:
    return _error_page(400, "The form had expired or did not come from this console; try again.")


@console_blueprint.errorhandler(AdapterError)
def _adapter_error(error: AdapterError) -> tuple[str, int]:
    return _error_page(error.status, "; ".join(issue.diagnostics for issue in error.issues))


@console_blueprint.errorhandler(HTTPException)
def _http_error(error: HTTPException) -> tuple[str, int]:
    status = error.code or 500
    messages = {
        403: "Your role may not do this.",
        404: "There is nothing at this address.",
        413: _too_large(),
    }
    return _error_page(status, messages.get(status, error.description or "The request failed."))


def _too_large() -> str:
    limit = _settings().max_body_bytes
    return (
        f"The upload is over {limit:,} bytes, the most the adapter takes "
        "(LD_ADAPTER_MAX_BODY_BYTES). Check a larger file with `ld-adapter validate FILE`."
    )


def _error_page(status: int, message: str) -> tuple[str, int]:
    return render_template("console/error.html", status=status, message=message), status


def _settings() -> Settings:
    from adapter.api.context import current_settings

    return current_settings()
