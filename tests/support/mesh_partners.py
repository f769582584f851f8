"""Partners reached over MESH in tests: the local partners bundle with MESH Endpoints.

MPFT's L&D service (mpft-ld-home-area, ODS RRE) sends us home-area referrals; here its Endpoint
is its MESH mailbox in the sandbox, and we (BSMHFT, ODS RXT) are OUR_MAILBOX.
"""

from __future__ import annotations

import json
from pathlib import Path

from adapter.mapping import codes
from adapter.settings import Settings
from tests.support.inbound import OUR_ODS
from tests.support.mesh_sandbox import PASSWORD, MeshSandbox
from tests.support.partners import LOCAL_PARTNERS

OUR_MAILBOX, MPFT_MAILBOX = "X26ABC1", "X26ABC2"
MPFT_ENDPOINT = "mpft-ld-fhir-msg"  # the Endpoint of mpft-ld-home-area
MPFT_SERVICE = "mpft-ld-home-area"


def workflow() -> str:
    """The workflow id our FHIR messages travel under."""
    return codes.url("mesh.fhir-message-workflow")


def mesh_endpoint(endpoint: dict, mailbox: str) -> dict:
    """An Endpoint turned into a MESH one: the mailbox as address, the workflow as a header."""
    changed = {k: v for k, v in endpoint.items() if k != "extension"}  # no HTTP authentication
    changed["connectionType"] = {
        "system": codes.url("partner.mesh-connection-type-system"),
        "code": codes.url("partner.mesh"),
        "display": "NHS MESH",
    }
    changed["address"] = mailbox
    changed["header"] = [f"Mex-WorkflowID: {workflow()}"]
    return changed


def partners_over_mesh(folder: Path, mailboxes: dict[str, str] | None = None) -> Path:
    """The local partners bundle with the named Endpoints (default: MPFT's L&D) on MESH."""
    bundle = json.loads(LOCAL_PARTNERS.read_text(encoding="utf-8"))
    wanted = mailboxes or {MPFT_ENDPOINT: MPFT_MAILBOX}
    for entry in bundle["entry"]:
        resource = entry["resource"]
        if resource["resourceType"] == "Endpoint" and resource["id"] in wanted:
            entry["resource"] = mesh_endpoint(resource, wanted[resource["id"]])
    path = folder / "partners-over-mesh.json"
    path.write_text(json.dumps(bundle), encoding="utf-8")
    return path


def mesh_settings(folder: Path, sandbox: MeshSandbox, database_url: str = "", **extra) -> Settings:  # type: ignore[no-untyped-def]
    """Our settings: BSMHFT with MPFT's L&D on MESH, our mailbox in the sandbox."""
    values = {
        "home": folder,
        "database_url": database_url,
        "ods_code": OUR_ODS,
        "partners_path": partners_over_mesh(folder),
        "mesh_url": sandbox.url,
        "mesh_mailbox": OUR_MAILBOX,
        "mesh_password": PASSWORD,
        "mesh_shared_key": sandbox.shared_key,
        **extra,
    }
    return Settings(**values)


def drain(sandbox: MeshSandbox, *mailboxes: str) -> None:
    """Acknowledge everything waiting in the mailboxes (the sandbox is shared by a module)."""
    for mailbox in mailboxes:
        with sandbox.client(mailbox) as client:
            for message_id in client.list_messages():
                client.acknowledge_message(message_id)
