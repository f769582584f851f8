"""The checks a partners bundle must pass, each problem named by its entry.

    Bundle.entry[3] (Endpoint/crisis-team): Endpoint.address: …

Every resource passes our validator (an Endpoint also against ld-partner-endpoint, so its
ld-endpoint-auth extension is checked); then the partner rules: a HealthcareService names the
Organization providing it (with an ODS code), the pathways it accepts, its recipient type and an
active FHIR messaging Endpoint; files an Endpoint's authentication names exist.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator

from adapter.conformance import has_errors, validate
from adapter.conformance.package import package
from adapter.exchange.endpoint_auth import AuthConfigError
from adapter.exchange.http_transport import process_message_url
from adapter.exchange.partners import (
    PARTNER_TYPES,
    auth_problems,
    codes_of,
    is_messaging_endpoint,
    ods_code,
)
from adapter.mapping import codes
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
    return problems, [resource for _, resource in labelled]


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
    reference = (endpoint.get("managingOrganization") or {}).get("reference")
    if isinstance(reference, str) and _target(reference, "Organization", index, resolve) is None:
        yield f"managingOrganization: {reference} is neither in the bundle nor already stored"


def _service_problems(service: dict, index: dict[str, dict], resolve: Resolve) -> Iterator[str]:
    reference = (service.get("providedBy") or {}).get("reference")
    organization = _target(reference, "Organization", index, resolve)
    if organization is None:
        yield "providedBy: must name an Organization in the bundle (or already stored)"
    elif not ods_code(organization):
        yield f"providedBy: {reference} has no ODS code"
    yield from _coded(service, "type", "partner.pathway-system", "the onward pathways it accepts")
    yield from _coded(service, "category", "partner.recipient-type-system", "its recipient type")
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


def _endpoint_choice(service: dict, index: dict[str, dict], resolve: Resolve) -> Iterator[str]:
    usable = False
    for item in service.get("endpoint") or []:
        reference = item.get("reference") if isinstance(item, dict) else None
        endpoint = _target(reference, "Endpoint", index, resolve)
        if endpoint is None:
            yield f"endpoint: {reference} is not an Endpoint in the bundle"
        elif is_messaging_endpoint(endpoint):
            usable = True
    if not usable:
        connection = codes.url("partner.connection-type-system")
        yield (
            "endpoint: needs an Endpoint with connectionType "
            f"{connection}|{codes.url('partner.fhir-messaging')}, status active and an http(s) "
            "address"
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
