"""Shared fixtures: an app on a temporary SQLite database, tokens, FHIR.js over every FHIR reply."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from adapter import create_app
from adapter.auth import mint_dev_token
from adapter.settings import Settings
from tests.support.mesh_sandbox import MeshSandbox

FHIR_MEDIA_TYPE = "application/fhir+json"


class RecordingClient(FlaskClient):
    """A test client that keeps every FHIR JSON body it receives, for FHIR.js to check."""

    fhir_bodies: list[dict]

    def open(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        response = super().open(*args, **kwargs)
        if response.mimetype == FHIR_MEDIA_TYPE and response.data:
            self.fhir_bodies.append(response.get_json())
        return response


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings for an app with its own SQLite database and key under tmp_path."""
    return Settings(home=tmp_path, base_url="http://testserver")


@pytest.fixture
def app(settings: Settings) -> Iterator[Flask]:
    """The adapter app, migrated and with the service directory loaded."""
    application = create_app(settings)
    application.test_client_class = RecordingClient
    yield application
    application.extensions["ld_adapter"].store.dispose()


@pytest.fixture
def client(app: Flask, fhirjs_checked_bodies: list[dict]) -> FlaskClient:
    """A test client whose FHIR replies are validated with FHIR.js after the test."""
    test_client = app.test_client()
    test_client.fhir_bodies = fhirjs_checked_bodies  # type: ignore[attr-defined]
    return test_client


@pytest.fixture
def token(settings: Settings):  # type: ignore[no-untyped-def]
    """Mint a bearer token with the given scopes for this app."""

    def mint(*scopes: str, lifetime: int = 600) -> str:
        return mint_dev_token(settings, list(scopes or ("system/*.cruds",)), lifetime=lifetime)

    return mint


@pytest.fixture
def auth(token) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Headers carrying an all-scopes bearer token."""
    return {"Authorization": f"Bearer {token()}"}


@pytest.fixture(scope="session")
def fhirjs():  # type: ignore[no-untyped-def]
    """One FHIR.js process for the whole run."""
    from tests.support.fhirjs import FhirJs, fhirjs_available

    if not fhirjs_available():
        pytest.fail(
            "FHIR.js is not installed: run `npm ci --prefix tests/fhirjs` (make test does)."
        )
    validator = FhirJs()
    yield validator
    validator.close()


@pytest.fixture
def fhirjs_checked_bodies(fhirjs) -> Iterator[list[dict]]:  # type: ignore[no-untyped-def]
    """Collects FHIR replies during a test, then fails the test if FHIR.js finds errors in any."""
    bodies: list[dict] = []
    yield bodies
    failures = []
    for body in bodies:
        errors = fhirjs.validate(body)
        if errors:
            failures.append(f"{body.get('resourceType')}: {errors}")
    assert not failures, "FHIR.js rejected what the API returned:\n" + "\n".join(failures)


@pytest.fixture(scope="module")
def mesh_sandbox() -> Iterator[MeshSandbox]:
    """NHS England's mesh-sandbox on 127.0.0.1, one per test module (see tests/support)."""
    with MeshSandbox() as sandbox:
        yield sandbox
