"""Two L&D services, each an adapter with its own database and the other as its partner.

Each one's partners bundle names the other: an Organization (its ODS code, and the OAuth client it
calls us with), its L&D service as the home-area L&D partner, and its `$process-message` Endpoint
with a bearer token the other one issued (a file: secrets are never in the bundle).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from adapter.auth import mint_dev_token
from adapter.settings import Settings

PARTNERS_BASE = "https://partners.example.org/fhir"  # fullUrls of the bundle's entries
URLS = {
    "ods": "https://fhir.nhs.uk/Id/ods-organization-code",
    "client": "https://ld-adapter.github.io/fhir/Id/oauth-client-id",
    "pathway": "https://ld-adapter.github.io/fhir/CodeSystem/ld-onward-referral",
    "recipient": "https://ld-adapter.github.io/fhir/CodeSystem/ld-recipient-type",
    "auth": "https://ld-adapter.github.io/fhir/StructureDefinition/ld-endpoint-auth",
    "endpoint": "https://ld-adapter.github.io/fhir/StructureDefinition/ld-partner-endpoint",
}


@dataclass(frozen=True)
class Service:
    """One L&D service running the adapter."""

    name: str  # short id, e.g. bsmhft
    title: str
    ods: str
    home: Path
    port: int

    @property
    def base(self) -> str:
        """Its FHIR base: where partners send messages."""
        return f"http://127.0.0.1:{self.port}/fhir"

    @property
    def client_id(self) -> str:
        """The OAuth client it calls partners with."""
        return f"{self.name}-ld-adapter"

    @property
    def home_area_service(self) -> str:
        """The id of its L&D service in its partners' bundles."""
        return f"{self.name}-ld-home-area"


def partners_bundle(us: Service, them: Service) -> Path:
    """`us`'s partners bundle naming `them`, with a token `them` accepts, written under us.home."""
    token = mint_dev_token(
        Settings(home=them.home), ["system/Bundle.c"], subject=us.client_id, lifetime=3600
    )
    token_file = us.home / f"token-for-{them.name}"
    token_file.write_text(token)
    organization = {
        "resourceType": "Organization",
        "id": f"{them.name}-partner",
        "identifier": [
            {"system": URLS["ods"], "value": them.ods},
            {"system": URLS["client"], "value": them.client_id},
        ],
        "active": True,
        "name": them.title,
    }
    service = {
        "resourceType": "HealthcareService",
        "id": them.home_area_service,
        "active": True,
        "providedBy": {"reference": f"Organization/{them.name}-partner"},
        "category": [{"coding": [{"system": URLS["recipient"], "code": "home-area-ld"}]}],
        "type": [{"coding": [{"system": URLS["pathway"], "code": "home-area-ld"}]}],
        "name": f"{them.title} L&D (home area)",
        "endpoint": [{"reference": f"Endpoint/{them.name}-fhir-msg"}],
    }
    endpoint = {
        "resourceType": "Endpoint",
        "id": f"{them.name}-fhir-msg",
        "meta": {"profile": [URLS["endpoint"]]},
        "extension": [
            {
                "url": URLS["auth"],
                "extension": [
                    {"url": "type", "valueCode": "bearer"},
                    {"url": "token-file", "valueString": str(token_file)},
                ],
            }
        ],
        "status": "active",
        "connectionType": {
            "system": "http://terminology.hl7.org/CodeSystem/endpoint-connection-type",
            "code": "hl7-fhir-msg",
        },
        "managingOrganization": {"reference": f"Organization/{them.name}-partner"},
        "payloadType": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/endpoint-payload-type",
                        "code": "any",
                    }
                ]
            }
        ],
        "payloadMimeType": ["application/fhir+json"],
        "address": them.base,
    }
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {"fullUrl": f"{PARTNERS_BASE}/{r['resourceType']}/{r['id']}", "resource": r}
            for r in (organization, service, endpoint)
        ],
    }
    path = us.home / "partners.json"
    path.write_text(json.dumps(bundle, indent=1))
    return path


def settings_for(us: Service, them: Service, database_url: str | None = None) -> dict[str, str]:
    """The LD_ADAPTER_* settings that make `us` a service with `them` as its partner."""
    settings = {
        "LD_ADAPTER_ODS_CODE": us.ods,
        "LD_ADAPTER_PARTNERS": str(partners_bundle(us, them)),
        "LD_ADAPTER_WORKERS": "1",
        "LD_ADAPTER_DELIVERY_BACKOFF_BASE": "0.2",
        "LD_ADAPTER_DELIVERY_BACKOFF_MAX": "1",
        "LD_ADAPTER_DELIVERY_POLL_INTERVAL": "0.2",
    }
    if database_url:
        settings["LD_ADAPTER_DATABASE_URL"] = database_url
    return settings
