"""The NHSD-* HTTP headers BaRS defines, computed once when a message is queued.

Each is standard Base64 of a JSON object shaped like a FHIR resource (or, for the target, an
Identifier). X-Request-Id and X-Correlation-Id come from the outbox row and Authorization from
the Endpoint; the transport adds those when it sends.
"""

from __future__ import annotations

import base64
import functools
import json
from importlib.metadata import PackageNotFoundError, version

from adapter.mapping import codes

TARGET = "NHSD-Target-Identifier"
ORGANISATION = "NHSD-End-User-Organisation"
SOFTWARE = "NHSD-Requesting-Software"
PRACTITIONER = "NHSD-Requesting-Practitioner"


@functools.cache
def software_version() -> str:
    """This adapter's version, as installed."""
    try:
        return version("ld-adapter")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "0+unknown"


def bars_headers(
    endpoint: dict,
    partner_service: dict,
    sender_org: dict,
    practitioner: dict | None = None,
) -> dict[str, str]:
    """NHSD-Target-Identifier, -End-User-Organisation, -Requesting-Software (and -Practitioner).

    The target is the partner service's first identifier (BaRS: its Endpoint Catalogue / DoS id),
    else the Endpoint's. practitioner is a PractitionerRole-shaped dict for the person referring.
    """
    headers = {
        TARGET: _encode(_target(endpoint, partner_service)),
        ORGANISATION: _encode(_organisation(sender_org)),
        SOFTWARE: _encode(_software()),
    }
    if practitioner is not None:
        headers[PRACTITIONER] = _encode(practitioner)
    return headers


def requesting_practitioner(name: str, role: str | None, sender_org: dict) -> dict:
    """The practitioner making the referral as the PractitionerRole object BaRS expects."""
    role_object: dict = {"resourceType": "PractitionerRole", "practitioner": {"display": name}}
    ods = _ods(sender_org)
    if ods is not None:
        role_object["organization"] = {"identifier": ods}
    if role:
        role_object["code"] = [{"text": role}]
    return role_object


def decode(value: str) -> dict:
    """A header value back as JSON (for tests and for partners' headers we receive)."""
    return json.loads(base64.b64decode(value, validate=True))


def _encode(value: dict) -> str:
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def _target(endpoint: dict, service: dict) -> dict:
    for source in (service, endpoint):
        for identifier in source.get("identifier", ()):
            if identifier.get("system") and identifier.get("value"):
                return {"system": identifier["system"], "value": identifier["value"]}
    # No identifier anywhere: the service's id in our directory still names it.
    return {"system": codes.url("identifier.healthcare-service"), "value": service["id"]}


def _organisation(org: dict) -> dict:
    out: dict = {"resourceType": "Organization"}
    ods = _ods(org)
    if ods is not None:
        out["identifier"] = [ods]
    if org.get("name"):
        out["name"] = org["name"]
    return out


def _ods(org: dict) -> dict | None:
    system = codes.url("identifier.ods-organization-code")
    for identifier in org.get("identifier", ()):
        if identifier.get("system") == system and identifier.get("value"):
            return {"system": system, "value": identifier["value"]}
    return None


def _software() -> dict:
    # Shaped as BaRS's own example and schema (deviceName and version as objects), not as an
    # R4 Device (where both are lists): receivers check the header against BaRS.
    return {
        "resourceType": "Device",
        "identifier": [{"system": codes.url("identifier.device"), "value": "ld-adapter"}],
        "deviceName": {"name": codes.url("onward.software-name"), "type": "manufacturer-name"},
        "version": {"value": software_version()},
    }
