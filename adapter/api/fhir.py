"""The FHIR R4 REST API (/fhir): capabilities, read, vread, history and search."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime

from flask import Blueprint, Response, request

from adapter.api.context import current_settings, current_store
from adapter.api.fhir_capability import capability_statement
from adapter.api.fhir_format import (
    entry,
    fhir_response,
    history_bundle,
    negotiate,
    page_links,
    resource_response,
)
from adapter.api.http import public
from adapter.auth import has_scope, require_scope
from adapter.conformance.package import profiles_by_type
from adapter.errors import InvalidInput, Issue, NotFound, UnsupportedMediaType, operation_outcome
from adapter.search.definitions import FHIR_ID, SearchRegistry
from adapter.search.parse import parse_search, unknown_issue
from adapter.search.query import Include, SearchLimits, SearchQuery

fhir_blueprint = Blueprint("fhir", __name__)
fhir_blueprint.before_request(negotiate)

_TYPE_NAME = re.compile(r"[A-Za-z]{1,64}")


@fhir_blueprint.get("/metadata")
@public
def metadata() -> Response:
    """The CapabilityStatement (no token needed)."""
    settings = current_settings()
    today = datetime.now(UTC).date().isoformat()
    statement = capability_statement(
        _registry(), settings.fhir_base_url, today, profiles_by_type(), settings.source_endpoint
    )
    return fhir_response(statement)


@fhir_blueprint.get("/<resource_type>/<resource_id>")
def read(resource_type: str, resource_id: str) -> Response:
    """The current version of a resource."""
    _check(resource_type, resource_id)
    require_scope(resource_type, "r")
    with current_store().unit_of_work(read_only=True) as uow:
        resource = uow.resources.read(resource_type, resource_id)
    if resource is None:
        raise NotFound(f"There is no {resource_type} with this id.")
    return resource_response(resource)


@fhir_blueprint.get("/<resource_type>/<resource_id>/_history/<version_id>")
def vread(resource_type: str, resource_id: str, version_id: str) -> Response:
    """One version of a resource."""
    _check(resource_type, resource_id)
    require_scope(resource_type, "r")
    with current_store().unit_of_work(read_only=True) as uow:
        resource = uow.resources.vread(resource_type, resource_id, version_id)
    if resource is None:
        raise NotFound(f"There is no such version of this {resource_type}.")
    return resource_response(resource)


@fhir_blueprint.get("/<resource_type>/<resource_id>/_history")
def history(resource_type: str, resource_id: str) -> Response:
    """Every version of a resource, newest first."""
    _check(resource_type, resource_id)
    require_scope(resource_type, "r")
    with current_store().unit_of_work(read_only=True) as uow:
        versions = uow.resources.history(resource_type, resource_id)
    if not versions:
        raise NotFound(f"There is no {resource_type} with this id.")
    return fhir_response(history_bundle(current_settings().fhir_base_url, versions))


@fhir_blueprint.get("/<resource_type>")
def search_get(resource_type: str) -> Response:
    """Search with query parameters."""
    return _search(resource_type, list(request.args.items(multi=True)))


@fhir_blueprint.post("/<resource_type>/_search")
def search_post(resource_type: str) -> Response:
    """Search with a form body (and any query parameters)."""
    if request.content_length and request.mimetype != "application/x-www-form-urlencoded":
        raise UnsupportedMediaType("POST _search takes an application/x-www-form-urlencoded body.")
    params = [*request.args.items(multi=True), *request.form.items(multi=True)]
    return _search(resource_type, params)


def _search(resource_type: str, params: list[tuple[str, str]]) -> Response:
    _check(resource_type)
    require_scope(resource_type, "s")
    registry = _registry()
    settings = current_settings()
    limits = SearchLimits(
        settings.max_search_values,
        settings.max_search_parameters,
        settings.max_search_total_values,
    )
    parsed = parse_search(resource_type, params, registry, limits)
    if parsed.unknown and _prefers_strict():
        raise InvalidInput([unknown_issue(name, strict=True) for name in parsed.unknown])
    warnings = [unknown_issue(name) for name in parsed.unknown]
    query, dropped = _permitted_includes(parsed.query, registry)
    warnings.extend(dropped)
    with current_store().unit_of_work(read_only=True) as uow:
        page = uow.resources.search(resource_type, query)
    base = settings.fhir_base_url
    entries = [entry(base, r, "match") for r in page.resources]
    entries += [entry(base, r, "include") for r in page.included]
    if warnings:
        entries.append({"resource": operation_outcome(warnings), "search": {"mode": "outcome"}})
    bundle = {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": page.total,
        "link": page_links(
            f"{base}/{resource_type}", parsed.used, query.count, query.offset, page.total
        ),
        "entry": entries,
    }
    return fhir_response(bundle)


def _permitted_includes(
    query: SearchQuery, registry: SearchRegistry
) -> tuple[SearchQuery, list[Issue]]:
    """One Include per target type the token may read; a warning for each type left out."""
    allowed: list[Include] = []
    dropped: list[Issue] = []
    for include in query.includes:
        parameter = registry.get(query.resource_type, include.param)
        assert parameter is not None  # parse_search only lets served includes through
        served = [t for t in parameter.targets if t in registry.resource_types]
        for target in [include.target_type] if include.target_type else served:
            if has_scope(target, "r") or has_scope(target, "s"):
                allowed.append(Include(include.param, target))
            else:
                dropped.append(
                    Issue(
                        f"{target} resources are not included: the token may not read them.",
                        code="suppressed",
                        severity="warning",
                        expression=("_include",),
                    )
                )
    return replace(query, includes=tuple(dict.fromkeys(allowed))), dropped


def _prefers_strict() -> bool:
    preferences = re.split(r"[,;]", request.headers.get("Prefer", ""))
    return any(p.strip().replace(" ", "") == "handling=strict" for p in preferences)


def _check(resource_type: str, resource_id: str | None = None) -> None:
    if resource_type not in _registry().resource_types:
        named = resource_type if _TYPE_NAME.fullmatch(resource_type) else "this type"
        raise NotFound(
            Issue(f"Resource type {named} is not supported by this server.", code="not-supported")
        )
    if resource_id is not None and not FHIR_ID.fullmatch(resource_id):
        raise InvalidInput(
            Issue(
                "The id is not a FHIR id (letters, digits, '-' and '.', up to 64).",
                expression=(f"{resource_type}.id",),
            )
        )


def _registry() -> SearchRegistry:
    return current_store().registry
