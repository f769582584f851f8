"""The NHSD-* headers BaRS defines, as a partner decodes them."""

from __future__ import annotations

import base64
import json

import pytest

from adapter.exchange.headers import decode, software_version
from adapter.exchange.message import bars_headers, requesting_practitioner
from tests.support.onward import SENDER, partner

ODS = "https://fhir.nhs.uk/Id/ods-organization-code"


def _headers(**kwargs: object) -> dict[str, str]:
    gp = partner("health")
    return bars_headers(gp.endpoint, gp.service, SENDER.organization, **kwargs)  # type: ignore[arg-type]


def test_each_header_is_standard_base64_json() -> None:
    for name, value in _headers().items():
        assert value.isascii() and "\n" not in value, name
        assert isinstance(json.loads(base64.b64decode(value, validate=True)), dict), name


def test_target_is_the_partner_services_identifier() -> None:
    target = decode(_headers()["NHSD-Target-Identifier"])
    assert target == partner("health").service["identifier"][0]


def test_target_falls_back_to_the_endpoint_then_our_directory_id() -> None:
    gp = partner("health")
    service = {k: v for k, v in gp.service.items() if k != "identifier"}
    endpoint = {**gp.endpoint, "identifier": [{"system": "https://example.org/ep", "value": "9"}]}
    assert decode(
        bars_headers(endpoint, service, SENDER.organization)["NHSD-Target-Identifier"]
    ) == {
        "system": "https://example.org/ep",
        "value": "9",
    }
    bare = decode(bars_headers(gp.endpoint, service, SENDER.organization)["NHSD-Target-Identifier"])
    assert bare["value"] == gp.service["id"]


def test_end_user_organisation_is_our_ods_code_and_name() -> None:
    assert decode(_headers()["NHSD-End-User-Organisation"]) == {
        "resourceType": "Organization",
        "identifier": [{"system": ODS, "value": "RRE"}],
        "name": "Midlands Partnership University NHS Foundation Trust",
    }


def test_requesting_software_names_this_adapter_and_its_version() -> None:
    device = decode(_headers()["NHSD-Requesting-Software"])
    assert device["resourceType"] == "Device"
    assert device["version"] == {"value": software_version()}
    assert device["deviceName"]["type"] == "manufacturer-name"


@pytest.mark.parametrize("role", [None, "L&D practitioner (RMN)"])
def test_requesting_practitioner_only_when_one_is_named(role: str | None) -> None:
    assert "NHSD-Requesting-Practitioner" not in _headers()
    who = requesting_practitioner("Alex Morgan", role, SENDER.organization)
    sent = decode(_headers(practitioner=who)["NHSD-Requesting-Practitioner"])
    assert sent["resourceType"] == "PractitionerRole"
    assert sent["practitioner"] == {"display": "Alex Morgan"}
    assert sent["organization"] == {"identifier": {"system": ODS, "value": "RRE"}}
    assert sent.get("code") == ([{"text": role}] if role else None)
