"""MESH over mutual TLS (mesh-sandbox behind HTTPS requiring a client certificate).

Our CA file and client certificate come from LD_ADAPTER_MESH_*; a CA bundle named by the
environment (REQUESTS_CA_BUNDLE, set on many machines) must not replace them.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from adapter.exchange.mesh_transport import MeshTransport
from adapter.exchange.model import Delivered, OutboundMessage, TryAgain
from adapter.settings import Settings
from tests.support.auth_partner import Pki, make_pki
from tests.support.mesh_sandbox import PASSWORD, MeshSandbox

ENDPOINT = {"address": "X26ABC2", "header": ["Mex-WorkflowID: LD_FHIR_MESSAGE"]}


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def tls_sandbox(pki: Pki) -> Iterator[MeshSandbox]:
    with MeshSandbox(tls=pki) as sandbox:
        yield sandbox


@pytest.fixture
def settings(tmp_path: Path, pki: Pki, tls_sandbox: MeshSandbox) -> Settings:
    return Settings(
        home=tmp_path,
        mesh_url=tls_sandbox.url,
        mesh_mailbox="X26ABC1",
        mesh_password=PASSWORD,
        mesh_shared_key=tls_sandbox.shared_key,
        mesh_ca_file=pki.ca,
        mesh_cert_file=pki.client_cert,
        mesh_key_file=pki.client_key,
    )


def message() -> OutboundMessage:
    return OutboundMessage(
        id=str(uuid.uuid4()),
        request_id=str(uuid.uuid4()),
        correlation_id=str(uuid.uuid4()),
        endpoint_id="partner-endpoint",
        transport="mesh",
        ordering_key="partner|patient",
        kind="onward-referral",
        body={"resourceType": "Bundle", "type": "message", "entry": []},
    )


def send(settings: Settings) -> object:
    transport = MeshTransport(settings)
    try:
        return transport.send(message(), ENDPOINT)
    finally:
        transport.close()


def test_our_ca_and_certificate_reach_mesh_whatever_the_environment_says(
    settings: Settings, tls_sandbox: MeshSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/nowhere/ca-bundle.pem")
    monkeypatch.setenv("CURL_CA_BUNDLE", "/nowhere/ca-bundle.pem")
    before = len(tls_sandbox.inbox("X26ABC2"))
    assert send(settings) == Delivered(202)
    assert len(tls_sandbox.inbox("X26ABC2")) == before + 1


def test_without_our_client_certificate_mesh_is_not_reached(settings: Settings) -> None:
    result = send(replace(settings, mesh_cert_file=None, mesh_key_file=None))
    assert isinstance(result, TryAgain)
    assert result.reason in ("MESH TLS handshake failed", "MESH connection failed")


def test_a_server_our_ca_did_not_sign_is_not_trusted(settings: Settings, tmp_path: Path) -> None:
    other = make_pki(tmp_path / "other")
    result = send(replace(settings, mesh_ca_file=other.ca))
    assert result == TryAgain("MESH TLS handshake failed")
