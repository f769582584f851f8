"""Receiving messages in tests: partners with OAuth clients, and messages addressed to us.

We play BSMHFT (ODS RXT); MPFT (ODS RRE, the directory's Organization/mpft) is the partner that
sends, as its client MPFT_CLIENT. The message is the issue-8 home-area referral fixture, which MPFT
addresses to BSMHFT's Organization.
"""

from __future__ import annotations

import copy
import functools
import json
import subprocess
import sys
import uuid
from pathlib import Path

from adapter.directory import directory_resources
from adapter.exchange.partner_clients import client_id_system
from adapter.settings import Settings
from tests.support.partners import LOCAL_PARTNERS
from tests.support.served import Served

ROOT = Path(__file__).resolve().parents[2]
HOME_AREA_MESSAGE = ROOT / "fixtures" / "messages" / "home-area-ld.message.json"
OUR_ODS = "RXT"
MPFT_CLIENT = "mpft-ld-adapter"
OTHER_CLIENT = "council-case-system"  # bound to example-council (ODS YEX03)
CLIENTS = {"mpft": MPFT_CLIENT, "example-council": OTHER_CLIENT}


def partners_with_clients(folder: Path, clients: dict[str, str] | None = None) -> Path:
    """The local partners bundle with an OAuth client id on each named Organization.

    An Organization only in the service directory (mpft, bsmhft) is copied into the bundle under
    an id of its own (`mpft-partner`), and the services it provides point at the copy.
    """
    bundle = json.loads(LOCAL_PARTNERS.read_text(encoding="utf-8"))
    resources = {
        e["resource"]["id"]: e["resource"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "Organization"
    }
    directory = {
        r["id"]: r
        for r in directory_resources(Settings(home=folder).directory_path)
        if r["resourceType"] == "Organization"
    }
    for org_id, client in (clients or CLIENTS).items():
        if org_id not in resources:  # a directory trust: the partner's own copy, under its own id
            copied = {**copy.deepcopy(directory[org_id]), "id": f"{org_id}-partner"}
            copied.pop("meta", None)
            _point_services_at(bundle, org_id, copied["id"])
            resources[org_id] = copied
            bundle["entry"].append({"resource": copied})
        resources[org_id].setdefault("identifier", []).append(
            {"system": client_id_system(), "value": client}
        )
    path = folder / "partners-with-clients.json"
    path.write_text(json.dumps(bundle), encoding="utf-8")
    return path


def _point_services_at(bundle: dict, old_id: str, new_id: str) -> None:
    for entry in bundle["entry"]:
        resource = entry["resource"]
        if resource.get("providedBy", {}).get("reference") == f"Organization/{old_id}":
            resource["providedBy"] = {"reference": f"Organization/{new_id}"}
        if resource.get("managingOrganization", {}).get("reference") == f"Organization/{old_id}":
            resource["managingOrganization"] = {"reference": f"Organization/{new_id}"}


@functools.cache
def _home_area_message() -> dict:
    message: dict = json.loads(HOME_AREA_MESSAGE.read_text(encoding="utf-8"))
    return message


def referral_message(bundle_id: str | None = None) -> dict:
    """MPFT's home-area referral message to BSMHFT (a fresh Bundle id unless one is given)."""
    message = copy.deepcopy(_home_area_message())
    message["id"] = bundle_id or str(uuid.uuid4())
    message.pop("identifier", None)
    return message


def message_headers(token: str, request_id: str | None = None) -> dict[str, str]:
    """What a BaRS sender sends: bearer token, FHIR JSON, a new X-Request-Id, X-Correlation-Id."""
    return {
        "Authorization": f"Bearer {token}",
        "Content-Type": "application/fhir+json",
        "Accept": "application/fhir+json",
        "X-Request-Id": request_id or str(uuid.uuid4()),
        "X-Correlation-Id": str(uuid.uuid4()),
    }


def partner_token(served: Served, client: str = MPFT_CLIENT) -> str:
    """A development token for a partner's client, minted by the CLI with the server's key."""
    command = [sys.executable, "-m", "adapter.cli", "token", "--subject", client]
    command += ["--scope", "system/Bundle.c"]
    minted = subprocess.run(command, env=served.env, check=True, capture_output=True, text=True)
    return minted.stdout.strip()
