"""The CapabilityStatement, built from what the FHIR blueprint really serves."""

from __future__ import annotations

from adapter.conformance.package import CANONICAL_BASE
from adapter.search.definitions import SearchRegistry

INTERACTIONS = ("read", "vread", "history-instance", "search-type")
VALIDATE_OPERATION = {
    "name": "validate",
    "definition": "http://hl7.org/fhir/OperationDefinition/Resource-validate",
    "documentation": "POST [base]/$validate or [base]/[type]/$validate: base spec, this "
    "adapter's profiles, messages and questionnaires; profile parameter accepted",
}
PROCESS_MESSAGE_OPERATION = {
    "name": "process-message",
    "definition": "http://hl7.org/fhir/OperationDefinition/MessageHeader-process-message",
    "documentation": "POST [base]/$process-message: a BaRS-style message Bundle from a partner "
    "(X-Request-Id and X-Correlation-Id GUIDs; the token's client bound to the partner)",
}
_OURS = f"{CANONICAL_BASE}/MessageDefinition"
_BARS = "https://fhir.nhs.uk/MessageDefinition"
# (mode, MessageDefinition) of every message this adapter receives or sends.
SUPPORTED_MESSAGES = (
    ("receiver", f"{_OURS}/ld-onward-referral-request"),
    ("receiver", f"{_OURS}/ld-referral-request"),
    ("receiver", f"{_OURS}/ld-referral-cancellation"),
    ("receiver", f"{_OURS}/ld-referral-response"),
    ("receiver", f"{_BARS}/bars-message-servicerequest-request-referral"),
    ("receiver", f"{_BARS}/bars-message-servicerequest-request-cancelled"),
    ("sender", f"{_OURS}/ld-onward-referral-request"),
    ("sender", f"{_OURS}/ld-referral-cancellation"),
    ("sender", f"{_OURS}/ld-referral-response"),
)
MESSAGE_TRANSPORT = "http://terminology.hl7.org/CodeSystem/message-transport"
SMART_SECURITY = {
    "system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
    "code": "SMART-on-FHIR",
}


PACKAGE_STATEMENT_ID = "ld-adapter"
PACKAGE_STATEMENT_URL = f"{CANONICAL_BASE}/CapabilityStatement/{PACKAGE_STATEMENT_ID}"


def capability_statement(
    registry: SearchRegistry,
    base_url: str,
    published: str,
    profiles: dict[str, list[str]],
    source_endpoint: str | None = None,
) -> dict:
    """What this server instance does; it instantiates the package's statement.

    profiles maps a resource type to the canonical URLs of our profiles on it; source_endpoint
    is where partners send messages (an instance's messaging endpoint).
    """
    capabilities = _capabilities(registry, profiles)
    if source_endpoint:
        address: dict = {"protocol": {"system": MESSAGE_TRANSPORT, "code": "http"}}
        address["address"] = source_endpoint
        capabilities["messaging"][0] = {"endpoint": [address], **capabilities["messaging"][0]}
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": published,
        "publisher": "ld-adapter",
        "kind": "instance",
        "instantiates": [PACKAGE_STATEMENT_URL],
        "software": {"name": "ld-adapter"},
        "implementation": {
            "description": "FHIR R4 interface of the Liaison and Diversion adapter",
            "url": base_url,
        },
        **capabilities,
    }


def package_capability_statement(
    registry: SearchRegistry, published: str, version: str, profiles: dict[str, list[str]]
) -> dict:
    """The statement the conformance package publishes: what any ld-adapter server does."""
    return {
        "resourceType": "CapabilityStatement",
        "id": PACKAGE_STATEMENT_ID,
        "url": PACKAGE_STATEMENT_URL,
        "version": version,
        "name": "LdAdapterCapabilityStatement",
        "title": "L&D adapter FHIR server",
        "status": "active",
        "date": published,
        "publisher": "ld-adapter",
        "description": "Generated from the adapter's FHIR API: the resource types it serves, "
        "their interactions and search parameters, the profiles it supports, $validate, and the "
        "messages it receives on $process-message and sends.",
        "kind": "capability",
        "software": {"name": "ld-adapter"},
        **_capabilities(registry, profiles),
    }


def _capabilities(registry: SearchRegistry, profiles: dict[str, list[str]]) -> dict:
    return {
        "fhirVersion": "4.0.1",
        "format": ["json"],
        "rest": [
            {
                "mode": "server",
                "documentation": "Dates without a time zone are read as UTC.",
                "security": {
                    "service": [{"coding": [SMART_SECURITY]}],
                    "description": "OAuth2 bearer tokens with SMART v2 system scopes, "
                    "e.g. system/ServiceRequest.rs; a scope with a restriction "
                    "(?param=value) is refused with 403, never widened",
                },
                "resource": [
                    _resource(registry, t, profiles.get(t, [])) for t in registry.resource_types
                ],
                "operation": [VALIDATE_OPERATION, PROCESS_MESSAGE_OPERATION],
            }
        ],
        "messaging": [
            {
                "documentation": "Messages are POSTed to [base]/$process-message; replies go to "
                "the sender's MessageHeader.source.endpoint.",
                "supportedMessage": [
                    {"mode": mode, "definition": definition}
                    for mode, definition in SUPPORTED_MESSAGES
                ],
            }
        ],
    }


def _resource(registry: SearchRegistry, resource_type: str, profiles: list[str]) -> dict:
    entry: dict = {
        "type": resource_type,
        **({"supportedProfile": profiles} if profiles else {}),
        "interaction": [{"code": code} for code in INTERACTIONS],
        "versioning": "versioned",
        "readHistory": True,
        "conditionalRead": "not-match",
    }
    includes = registry.includes(resource_type)
    if includes:
        entry["searchInclude"] = list(includes)
    entry["searchParam"] = [
        {
            "name": p.name,
            "definition": p.definition,
            "type": p.type,
            **({"documentation": p.documentation} if p.documentation else {}),
        }
        for p in registry.parameters(resource_type)
    ]
    return entry
