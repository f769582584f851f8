"""Partners as FHIR data: the Organization, the HealthcareService it runs and its Endpoint.

A partners bundle (LD_ADAPTER_PARTNERS) is a collection Bundle of those resources, checked by our
validator and by the rules below, then stored so /fhir serves it like the service directory.
A HealthcareService is a partner when it names the onward pathways it accepts (`type`, from
ld-onward-referral), what kind of recipient it is (`category`, from ld-recipient-type), the
Organization providing it (with an ODS code) and an active FHIR messaging or MESH Endpoint.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from adapter.exchange.endpoint_auth import AuthConfigError, endpoint_auth, missing_files
from adapter.mapping import codes
from adapter.settings import Settings, SettingsError

if TYPE_CHECKING:
    from adapter.store import Store, UnitOfWork

PARTNER_TYPES = ("Organization", "HealthcareService", "Endpoint")
FHIR_MESSAGING, MESH = "fhir-messaging", "mesh"  # OutboundMessage.transport names
WORKFLOW_HEADER = "Mex-WorkflowID"
MESH_MAILBOX = re.compile(r"[A-Za-z0-9]{1,20}")  # a MESH mailbox id, e.g. X26ABC1
MAX_PROBLEMS = 20  # listed in one start-up error; more are counted


class PartnerBundleError(SettingsError):
    """The partners bundle cannot be used; each problem names the entry at fault."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.problems = problems
        shown = problems[:MAX_PROBLEMS]
        more = len(problems) - len(shown)
        lines = [f"{source}: the partners bundle is not usable:", *(f"  {p}" for p in shown)]
        if more:
            lines.append(f"  … and {more} more")
        super().__init__("\n".join(lines))


@dataclass(frozen=True)
class Partner:
    """A HealthcareService that receives onward referrals, with its Organization and Endpoint."""

    service: dict
    organization: dict
    endpoint: dict

    @property
    def id(self) -> str:
        """The HealthcareService id (what an onward referral's `to` names)."""
        return str(self.service["id"])

    @property
    def pathways(self) -> frozenset[str]:
        """The ld-onward-referral codes the service accepts."""
        return frozenset(codes_of(self.service.get("type"), codes.url("partner.pathway-system")))

    @property
    def recipient_type(self) -> str | None:
        """The ld-recipient-type code: which disclosure rule applies; None unless exactly one."""
        found = codes_of(self.service.get("category"), codes.url("partner.recipient-type-system"))
        return found[0] if len(found) == 1 else None

    @property
    def ods_code(self) -> str | None:
        """The ODS code of the providing Organization."""
        return ods_code(self.organization)


def ods_code(organization: dict) -> str | None:
    """An Organization's ODS code, if it has one."""
    system = codes.url("identifier.ods-organization-code")
    for identifier in organization.get("identifier") or []:
        if isinstance(identifier, dict) and identifier.get("system") == system:
            value = identifier.get("value")
            return value if isinstance(value, str) and value else None
    return None


def codes_of(concepts: Any, system: str) -> list[str]:
    """Codes of `system` in a CodeableConcept list, in order."""
    found = []
    for concept in concepts if isinstance(concepts, list) else ():
        for coding in concept.get("coding", []) if isinstance(concept, dict) else ():
            if isinstance(coding, dict) and coding.get("system") == system:
                code = coding.get("code")
                if isinstance(code, str) and code not in found:
                    found.append(code)
    return found


def is_messaging_endpoint(endpoint: dict) -> bool:
    """An active FHIR messaging Endpoint with an http(s) address."""
    address = _active_address(endpoint, "partner.connection-type-system", "partner.fhir-messaging")
    return address is not None and address.startswith(("https://", "http://"))


def is_mesh_endpoint(endpoint: dict) -> bool:
    """An active MESH Endpoint: a mailbox id as address and a Mex-WorkflowID header."""
    address = _active_address(endpoint, "partner.mesh-connection-type-system", "partner.mesh")
    return (
        address is not None
        and MESH_MAILBOX.fullmatch(address) is not None
        and mesh_workflow(endpoint) is not None
    )


def _active_address(endpoint: dict, system_key: str, code_key: str) -> str | None:
    """The address of an active Endpoint of this connection type (fhir-urls.json keys)."""
    connection = endpoint.get("connectionType")
    address = endpoint.get("address")
    if (
        isinstance(connection, dict)
        and connection.get("system") == codes.url(system_key)
        and connection.get("code") == codes.url(code_key)
        and endpoint.get("status") == "active"
        and isinstance(address, str)
    ):
        return address
    return None


def mesh_workflow(endpoint: dict) -> str | None:
    """The workflow id of an Endpoint's `header` "Mex-WorkflowID: <id>", if it has one."""
    for header in endpoint.get("header") or ():
        name, _, value = header.partition(":") if isinstance(header, str) else ("", "", "")
        if name.strip().lower() == WORKFLOW_HEADER.lower() and value.strip():
            return value.strip()
    return None


def transport_of(endpoint: dict) -> str | None:
    """The transport that reaches an Endpoint: "fhir-messaging", "mesh", or None (unusable)."""
    if is_messaging_endpoint(endpoint):
        return FHIR_MESSAGING
    if is_mesh_endpoint(endpoint):
        return MESH
    return None


def partner_for_service(uow: UnitOfWork, service_id: str) -> Partner | None:
    """The partner running HealthcareService `service_id`, or None if it cannot take referrals."""
    service = uow.resources.read("HealthcareService", service_id)
    if service is None or service.get("active") is False:
        return None
    organization = _read(uow, (service.get("providedBy") or {}).get("reference"), "Organization")
    if organization is None:
        return None
    for reference in service.get("endpoint") or []:
        target = reference.get("reference") if isinstance(reference, dict) else None
        endpoint = _read(uow, target, "Endpoint")
        if endpoint is not None and transport_of(endpoint) is not None:
            partner = Partner(service, organization, endpoint)
            return partner if partner.pathways and partner.recipient_type else None
    return None


def _read(uow: UnitOfWork, reference: object, resource_type: str) -> dict | None:
    if not isinstance(reference, str) or not reference.startswith(f"{resource_type}/"):
        return None
    return uow.resources.read(resource_type, reference.split("/", 1)[1])


def load_partners(store: Store, settings: Settings, directory: Sequence[dict] = ()) -> list[dict]:
    """Load (or refresh) the partners bundle into the store; [] when LD_ADAPTER_PARTNERS is unset.

    Organizations already stored (the service directory's trusts) may be named by `providedBy`,
    but not restated: a bundle resource with a directory resource's id is refused, since the two
    would overwrite each other at every start (and a worker starting meanwhile would read the
    directory's copy, without what the bundle adds, such as an OAuth client id).
    Partners removed from the bundle stay stored: mark them inactive instead.
    """
    if settings.partners_path is None:
        return []
    with store.unit_of_work() as uow:

        def stored(reference: str) -> dict | None:
            return _read(uow, reference, reference.split("/", 1)[0])

        resources = load_partner_bundle(settings.partners_path, stored)
        _refuse_directory_ids(settings.partners_path, resources, directory)
        for resource in resources:
            uow.resources.upsert(resource)
    return resources


def _refuse_directory_ids(path: Path, resources: list[dict], directory: Sequence[dict]) -> None:
    """PartnerBundleError naming each bundle resource that restates a service directory one."""
    taken = {(r.get("resourceType"), r.get("id")) for r in directory}
    problems = [
        f"{r['resourceType']}/{r['id']}: the service directory has this resource; give the "
        "partner's its own id (an Organization may share the ODS code) and point its services at it"
        for r in resources
        if (r.get("resourceType"), r.get("id")) in taken
    ]
    if problems:
        raise PartnerBundleError(f"LD_ADAPTER_PARTNERS {path}", problems)


def load_partner_bundle(
    path: Path,
    resolve: Callable[[str], dict | None] | None = None,
    check_files: bool = True,
) -> list[dict]:
    """The resources of a partners bundle file, checked; PartnerBundleError lists what is wrong.

    `resolve` finds a referenced resource outside the bundle (e.g. in the store), else None.
    `check_files=False` skips checking that the files Endpoints name exist (for checking an
    example on a machine without its keys).
    """
    from adapter.exchange.partner_rules import bundle_problems

    source = f"LD_ADAPTER_PARTNERS {path}"
    try:
        bundle = orjson.loads(Path(path).read_bytes())
    except OSError as exc:
        raise PartnerBundleError(source, [f"cannot be read ({exc.strerror})"]) from None
    except orjson.JSONDecodeError as exc:
        raise PartnerBundleError(source, [f"is not JSON ({exc})"]) from None
    problems, resources = bundle_problems(bundle, resolve or (lambda _reference: None), check_files)
    if problems:
        raise PartnerBundleError(source, problems)
    return resources


def auth_problems(endpoint: dict, check_files: bool = True) -> list[str]:
    """What is wrong with an Endpoint's ld-endpoint-auth, and which files it names are missing."""
    try:
        auth = endpoint_auth(endpoint)
        return missing_files(auth) if check_files else []
    except AuthConfigError as exc:
        return [str(exc)]
