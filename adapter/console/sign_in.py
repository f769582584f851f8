"""Signing in and out of the console: a one-time development link, or OpenID Connect if set up."""

from __future__ import annotations

from flask import current_app, g, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from adapter.api.context import app_services
from adapter.api.http import public
from adapter.console import console_blueprint
from adapter.console.session import current_user
from adapter.console.session import sign_in as start_session
from adapter.console.session import sign_out as end_session
from adapter.services.console_links import use_link as burn_link

# Set by the OpenID Connect sign-in (if configured): the endpoint its button on the page opens.
OIDC_ENDPOINT_KEY = "CONSOLE_OIDC_LOGIN_ENDPOINT"


@console_blueprint.get("/sign-in")
@public
def sign_in() -> str:
    """The sign-in page: OpenID Connect when configured, else how to get a development link."""
    oidc = current_app.config.get(OIDC_ENDPOINT_KEY)
    return render_template(
        "console/sign_in.html",
        oidc_url=url_for(oidc, next=_next_page()) if oidc else None,
        environment=app_services().settings.environment,
    )


@console_blueprint.get("/link/<token>")
@public
def link(token: str) -> str:
    """Confirm before using a one-time link (a mail scanner's GET must not burn it)."""
    return render_template("console/link.html", token=token)


@console_blueprint.post("/link/<token>")
def use_link(token: str) -> Response | tuple[str, int]:
    """Use a one-time link: sign in, or refuse one that was used or has expired."""
    holder = burn_link(app_services().store, token)
    if holder is None:
        page = render_template(
            "console/error.html",
            status=403,
            message="This sign-in link has been used or has expired. Ask for a new one.",
        )
        return page, 403
    start_session(holder.subject, holder.name, holder.role)
    g.console_user = current_user()  # the audit names who signed in
    return redirect(url_for("console.overview"))


@console_blueprint.post("/sign-out")
def sign_out() -> Response:
    """End the session."""
    end_session()
    g.console_user = None
    return redirect(url_for("console.sign_in"))


def _next_page() -> str:
    """Where to go after signing in: a console page only (never another site)."""
    wanted = request.args.get("next", "")
    return wanted if wanted.startswith("/console/") and "//" not in wanted else "/console/"
