"""FHIR R4 interoperability adapter for NHS Liaison and Diversion services."""

from __future__ import annotations

from typing import TYPE_CHECKING

from adapter.settings import Settings

PROCESS_MESSAGE = "process_message.process_message"  # the one endpoint a partner's client may call

if TYPE_CHECKING:  # Flask only where an app is built: the delivery worker never imports it
    from flask import Flask


def create_app(settings: Settings | None = None) -> Flask:
    """Build the Flask app: store (migrated), service directory, auth, blueprints."""
    from flask import Flask, request

    from adapter import services
    from adapter.api import audit, errors, health, observe
    from adapter.api.answers import answers_blueprint
    from adapter.api.assessments import assessments_blueprint
    from adapter.api.context import EXTENSION_KEY, AppServices
    from adapter.api.fhir import fhir_blueprint
    from adapter.api.fhir_validate import validate_blueprint
    from adapter.api.messages import messages_blueprint
    from adapter.api.native import native_blueprint
    from adapter.api.onward_referrals import onward_blueprint
    from adapter.api.openapi_page import docs_blueprint
    from adapter.api.process_message import process_blueprint
    from adapter.api.reports import reports_blueprint
    from adapter.auth import TokenVerifier, authenticate, refuse_partner_client
    from adapter.console import init_app as init_console
    from adapter.console import is_console_request
    from adapter.exchange.partner_clients import partner_clients
    from adapter.store import Store

    settings = settings or Settings.from_env()
    settings.home.mkdir(parents=True, exist_ok=True)
    store = Store.from_url(
        settings.database_url, statement_timeout_ms=settings.statement_timeout_ms
    )
    directory = services.prepare_store(store, settings)
    verifier = TokenVerifier(settings)

    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    clients = partner_clients(store)
    app.extensions[EXTENSION_KEY] = AppServices(settings, store, verifier, directory, clients)
    observe.init_app(app)  # first: times and logs every request, refusals included
    errors.init_app(app)
    audit.init_app(app)  # first: a request refused by the token check is audited too

    @app.before_request
    def _authenticate() -> None:
        view = app.view_functions.get(request.endpoint or "")
        if request.method == "OPTIONS" or getattr(view, "is_public", False):
            return
        if is_console_request():
            return  # the console's own check: a signed-in session, never a bearer token
        authenticate(verifier)
        if request.endpoint != PROCESS_MESSAGE:
            refuse_partner_client(clients)

    app.register_blueprint(health.health_blueprint)
    app.register_blueprint(observe.observe_blueprint)
    app.register_blueprint(native_blueprint, url_prefix="/api")
    app.register_blueprint(assessments_blueprint, url_prefix="/api")
    app.register_blueprint(messages_blueprint, url_prefix="/api")
    app.register_blueprint(onward_blueprint, url_prefix="/api")
    app.register_blueprint(answers_blueprint, url_prefix="/api")
    app.register_blueprint(reports_blueprint, url_prefix="/api")
    app.register_blueprint(docs_blueprint, url_prefix="/api")
    app.register_blueprint(fhir_blueprint, url_prefix="/fhir")
    app.register_blueprint(validate_blueprint, url_prefix="/fhir")
    app.register_blueprint(process_blueprint, url_prefix="/fhir")
    init_console(app, settings)
    return app
