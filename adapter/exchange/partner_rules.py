"""The checks a partners bundle must pass, each problem named by its entry.

    Bundle.entry[3] (Endpoint/crisis-team): Endpoint.address: …

Every resource passes our validator (an Endpoint also against ld-partner-endpoint, so its
ld-endpoint-auth extension is checked); then the partner rules: a HealthcareService names the
Organization providing it (with an ODS code), the pathways it accepts, exactly one recipient type
that may take every one of those pathways, and an active FHIR messaging or MESH Endpoint; files an
Endpoint's authentication names exist; an OAuth client id (the client a partner calls us with)
is on one Organization only.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator

from adapter.conformance import has_errors, validate
from adapter.conformance.package import package
from adapter.exchange.endpoint_auth import AuthConfigError
from adapter.exchange.http_transport import process_message_url
from adapter.exchange.partners import (
    MESH_MAILBOX,
    PARTNER_TYPES,
    WORKFLOW_HEADER,
    auth_problems,
    codes_of,
    mesh_workflow,
    ods_code,
    transport_of,
)
from adapter.mapping import codes
from adapter.mapping.onward_referral import onward_rules
from adapter.search.definitions import FHIR_ID

Resolve = Callable[[str], dict | None]


def bundle_problems(
    bundle: object, resolve: Resolve, check_files: bool = True
) -> tuple[list[str], list[dict]]:
    """(problems, resources) of a partners bundle; resources are usable only without problems."""
    if not (
        isinstance(bundle, dict)
        and bundle.get("resourceType") == "Bundle"
        and bundle.get("type") == "collection"
        and isinstance(bundle.get("entry"), list)
        and bundle["entry"]
    ):
        return ["Bundle: must be a collection Bundle with entries"], []
    problems: list[str] = []
    labelled: list[tuple[str, dict]] = []
    seen: set[str] = set()
    for i, entry in enumerate(bundle["entry"]):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        label, problem = _entry(i, resource, seen)
        if problem:
            problems.append(f"{label}: {problem}")
            continue
        assert isinstance(resource, dict)
        labelled.append((label, resource))
    index = {_key(resource): resource for _, resource in labelled}
    for label, resource in labelled:
        found = _resource_problems(resource, index, resolve, check_files)
        problems.extend(f"{label}: {p}" for p in found)
    problems.extend(_client_id_problems(labelled))
    return problems, [resource for _, resource in labelled]


def _client_id_problems(labelled: list[tuple[str, dict]]) -> Iterator[str]:
    """An OAuth client id names one partner Organization: a second one would be ambiguous."""
    system = codes.url("identifier.oauth-client-id")
    owner: dict[str, str] = {}
    for label, resource in labelled:
        for identifier in resource.get("identifier") or ():
            if not isinstance(identifier, dict) or identifier.get("system") != system:
                continue
            value = identifier.get("value")
            if resource["resourceType"] != "Organization":
                yield f"{label}: identifier: an OAuth client id ({system}) goes on an Organization"
            elif value in owner and owner[value] != label:
                yield f"{label}: identifier: OAuth client id {value!r} is also {owner[value]}'s"
            elif isinstance(value, str):
                owner[value] = label


def _entry(i: int, resource: object, seen: set[str]) -> tuple[str, str | None]:
    """The entry's label, and what makes it unusable, if anything."""
    label = f"Bundle.entry[{i}]"
    if not isinstance(resource, dict):
        return label, "has no resource"
    rtype, rid = resource.get("resourceType"), resource.get("id")
    if not (isinstance(rid, str) and FHIR_ID.fullmatch(rid)):
        return label, f"{rtype} needs an id"
    label = f"{label} ({rtype}/{rid})"
    if rtype not in PARTNER_TYPES:
        allowed = f"{', '.join(PARTNER_TYPES[:-1])} and {PARTNER_TYPES[-1]}"
        return label, f"only {allowed} belong in a partners bundle"
    if f"{rtype}/{rid}" in seen:
        return label, "appears twice"
    seen.add(f"{rtype}/{rid}")
    return label, None


def _key(resource: dict) -> str:
    return f"{resource['resourceType']}/{resource['id']}"


def _resource_problems(
    resource: dict, index: dict[str, dict], resolve: Resolve, check_files: bool
) -> list[str]:
    rtype = resource["resourceType"]
    profile = codes.url("partner.endpoint-profile") if rtype == "Endpoint" else None
    issues = validate(resource, profile)
    found = [
        f"{'/'.join(i.expression) or rtype}: {i.diagnostics}" for i in issues if has_errors([i])
    ]
    if rtype == "Organization" and not ods_code(resource):
        found.append("identifier: needs an ODS code (https://fhir.nhs.uk/Id/ods-organization-code)")
    elif rtype == "Endpoint":
        found.extend(_endpoint_problems(resource, index, resolve, check_files))
    elif rtype == "HealthcareService":
        found.extend(_service_problems(resource, index, resolve))
    return found


def _endpoint_problems(
    endpoint: dict, index: dict[str, dict], resolve: Resolve, check_files: bool
) -> Iterator[str]:
    yield from (f"ld-endpoint-auth: {p}" for p in auth_problems(endpoint, check_files))
    connection = endpoint.get("connectionType") or {}
    if connection.get("code") == codes.url("partner.fhir-messaging"):
        try:
            process_message_url(endpoint)
        except AuthConfigError as exc:
            yield f"address: {exc}"
    elif _is_mesh_typed(connection):
        yield from _mesh_endpoint_problems(endpoint)
    reference = (endpoint.get("managingOrganization") or {}).get("reference")
    if isinstance(reference, str) and _target(reference, "Organization", index, resolve) is None:
        yield f"managingOrganization: {reference} is neither in the bundle nor already stored"


def _is_mesh_typed(connection: dict) -> bool:
    return connection.get("system") == codes.url(
        "partner.mesh-connection-type-system"
    ) and connection.get("code") == codes.url("partner.mesh")


def _mesh_endpoint_problems(endpoint: dict) -> Iterator[str]:
    address = endpoint.get("address")
    if not isinstance(address, str) or MESH_MAILBOX.fullmatch(address) is None:
        yield "address: a MESH Endpoint's address is the partner's mailbox id (letters and digits)"
    if mesh_workflow(endpoint) is None:
        yield f'header: a MESH Endpoint needs a header "{WORKFLOW_HEADER}: <workflow id>"'


def _service_problems(service: dict, index: dict[str, dict], resolve: Resolve) -> Iterator[str]:
    reference = (service.get("providedBy") or {}).get("reference")
    organization = _target(reference, "Organization", index, resolve)
    if organization is None:
        yield "providedBy: must name an Organization in the bundle (or already stored)"
    elif not ods_code(organization):
        yield f"providedBy: {reference} has no ODS code"
    yield from _coded(service, "type", "partner.pathway-system", "the onward pathways it accepts")
    yield from _recipient_type(service)
    yield from _endpoint_choice(service, index, resolve)


def _coded(service: dict, element: str, system_key: str, meaning: str) -> Iterator[str]:
    system = codes.url(system_key)
    found = codes_of(service.get(element), system)
    if not found:
        yield f"{element}: needs codes from {system} ({meaning})"
    known = concepts(system)
    for code in found:
        if known is not None and code not in known:
            yield f"{element}: {code!r} is not a code of {system}"


def _recipient_type(service: dict) -> Iterator[str]:
    """Exactly one ld-recipient-type code, and one that may take every pathway of `type`.

    The recipient type decides what the partner may see, so a second code or a pathway of another
    kind of recipient (a GP service tagged criminal-justice) would disclose too much.
    """
    system = codes.url("partner.recipient-type-system")
    tagged = [
        coding
        for concept in _list(service.get("category"))
        for coding in _list(concept.get("coding") if isinstance(concept, dict) else None)
        if isinstance(coding, dict) and coding.get("system") == system
    ]
    if len(tagged) != 1:
        has = f", not {len(tagged)}" if tagged else ""
        yield f"category: needs exactly one code from {system} (its recipient type){has}"
        return
    recipient_type = tagged[0].get("code")
    known = concepts(system)
    if known is not None and recipient_type not in known:
        yield f"category: {recipient_type!r} is not a code of {system}"
        return
    pathway_system = codes.url("partner.pathway-system")
    known_pathways = concepts(pathway_system)
    for pathway in codes_of(service.get("type"), pathway_system):
        if known_pathways is not None and pathway not in known_pathways:
            continue  # _coded names it
        takes = pathway_recipient_types().get(pathway, frozenset())
        if recipient_type not in takes:
            yield (
                f"type: pathway {pathway!r} is not one a {recipient_type!r} recipient may take "
                f"(only {', '.join(sorted(takes)) or 'none'}: mappings/onward-referral-rules.json)"
            )


def _list(value: object) -> list:
    return value if isinstance(value, list) else []


@functools.cache
def pathway_recipient_types() -> dict[str, frozenset[str]]:
    """Per onward pathway, the recipient types a partner taking it may be (as mappings/ say)."""
    rules = onward_rules()["recipient_types"]
    return {pathway: frozenset(types) for pathway, types in rules.items()}


def _endpoint_choice(service: dict, index: dict[str, dict], resolve: Resolve) -> Iterator[str]:
    usable = False
    for item in service.get("endpoint") or []:
        reference = item.get("reference") if isinstance(item, dict) else None
        endpoint = _target(reference, "Endpoint", index, resolve)
        if endpoint is None:
            yield f"endpoint: {reference} is not an Endpoint in the bundle"
        elif transport_of(endpoint) is not None:
            usable = True
    if not usable:
        connection = codes.url("partner.connection-type-system")
        mesh = codes.url("partner.mesh-connection-type-system")
        yield (
            "endpoint: needs an active Endpoint: connectionType "
            f"{connection}|{codes.url('partner.fhir-messaging')} with an http(s) address, or "
            f"{mesh}|{codes.url('partner.mesh')} with a MESH mailbox id as address and a header "
            '"Mex-WorkflowID: <workflow id>"'
        )


def _target(reference: object, rtype: str, index: dict[str, dict], resolve: Resolve) -> dict | None:
    if not isinstance(reference, str) or not reference.startswith(f"{rtype}/"):
        return None
    return index.get(reference) or resolve(reference)


@functools.cache
def concepts(system: str) -> frozenset[str] | None:
    """The codes of a CodeSystem in the conformance package; None if the package lacks it."""
    code_system = package().canonical(system)
    if code_system is None:
        return None
    found: set[str] = set()
    stack = list(code_system.get("concept", []))
    while stack:
        concept = stack.pop()
        found.add(concept["code"])
        stack.extend(concept.get("concept", []))
    return frozenset(found)
