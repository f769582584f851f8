"""A GP practice reached by MESH: partners bundle, app settings, and ITK3 acks shaped as the spec's.

The acks follow the ITK3 response shape (nhsconnect/ITK3-Messaging-Distribution,
explore_response_structure): a message Bundle whose MessageHeader (event ITK008M) answers our
MessageHeader.id in response.identifier, and an OperationOutcome with the ITK3 response code.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from adapter.settings import Settings
from tests.support.partners import LOCAL_PARTNERS

GP = "example-medical-practice-gp"
GP_ENDPOINT = "example-medical-practice-fhir-msg"
OUR_MAILBOX = "LDADAPTER01"
MESH_CONNECTION = {
    "system": "https://ld-adapter.github.io/fhir/CodeSystem/ld-endpoint-connection-type",
    "code": "mesh",
    "display": "MESH",
}
RESPONSE_CODES = "https://fhir.nhs.uk/STU3/CodeSystem/ITK-ResponseCodes-1"
DISPLAYS = {
    "20013": "Success",
    "30001": "Patient known here",
    "30002": "Patient not known here",
    "20009": "Payload validation failure",
    "20007": "Duplicate Message received",
    "20008": "Duplicate Document received",
}


def gp_by_mesh_partners(folder: Path) -> Path:
    """The local partners bundle with the GP practice's Endpoint a MESH one (routed by person)."""
    bundle = json.loads(LOCAL_PARTNERS.read_text(encoding="utf-8"))
    for entry in bundle["entry"]:
        resource = entry["resource"]
        if resource["resourceType"] == "Endpoint" and resource["id"] == GP_ENDPOINT:
            resource["connectionType"] = MESH_CONNECTION
            resource["address"] = "GPPROVIDER"  # Mex-To is per person (GPCM-SD-063)
            resource["header"] = ["Mex-WorkflowID: GPFED_CONSULT_REPORT"]
            resource["payloadType"] = [{"text": "GP Connect Send Document (ITK3, FHIR STU3)"}]
    path = folder / "partners-gp-mesh.json"
    path.write_text(json.dumps(bundle), encoding="utf-8")
    return path


def gp_mesh_settings(home: Path, database_url: str, **overrides: object) -> Settings:
    """An app whose GP practice is reached by MESH, with our mailbox; tests run delivery."""
    values: dict = {
        "home": home,
        "base_url": "http://testserver",
        "database_url": database_url,
        "partners_path": gp_by_mesh_partners(home),
        "delivery_in_process": False,
        "mesh_mailbox": OUR_MAILBOX,
        **overrides,
    }
    return Settings(**values)


def itk_ack(answers: str, code: str, ok: bool = True, display: str | None = None) -> bytes:
    """An ITK3 Response (ITK008M) to our MessageHeader `answers`, with ITK3 response `code`."""
    header_id, outcome_id = str(uuid.uuid4()), str(uuid.uuid4())
    handling = [
        {"url": "BusAckRequested", "valueBoolean": False},
        {"url": "InfAckRequested", "valueBoolean": False},
        {"url": "SenderReference", "valueString": "onward referral id"},
    ]
    header = {
        "resourceType": "MessageHeader",
        "id": header_id,
        "meta": {"profile": ["https://fhir.nhs.uk/STU3/StructureDefinition/ITK-MessageHeader-2"]},
        "extension": [
            {
                "url": "https://fhir.nhs.uk/STU3/StructureDefinition/Extension-ITK-MessageHandling-2",
                "extension": handling,
            }
        ],
        "event": {
            "system": "https://fhir.nhs.uk/STU3/CodeSystem/ITK-MessageEvent-2",
            "code": "ITK008M",
            "display": "ITK Response",
        },
        "timestamp": "2026-12-01T10:00:00+00:00",
        "source": {"endpoint": "GPPRACTICE01"},
        "response": {
            "identifier": answers,
            "code": "ok" if ok else "fatal-error",
            "details": {"reference": f"urn:uuid:{outcome_id}"},
        },
        "focus": [{"reference": f"urn:uuid:{outcome_id}"}],
    }
    coding = {"system": RESPONSE_CODES, "code": code, "display": display or DISPLAYS[code]}
    outcome = {
        "resourceType": "OperationOutcome",
        "id": outcome_id,
        "issue": [
            {
                "severity": "information" if ok else "fatal",
                "code": "informational" if ok else "processing",
                "details": {"coding": [coding]},
                "diagnostics": "Free text that may name the person: Daniel Hartley",
            }
        ],
    }
    bundle = {
        "resourceType": "Bundle",
        "id": str(uuid.uuid4()),
        "meta": {"profile": ["https://fhir.nhs.uk/STU3/StructureDefinition/ITK-Message-Bundle-1"]},
        "type": "message",
        "entry": [{"fullUrl": f"urn:uuid:{r['id']}", "resource": r} for r in (header, outcome)],
    }
    return json.dumps(bundle).encode()
