"""The native JSON API under /api: referrals in the L&D team's own terms."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, Response, request, url_for

from adapter import services
from adapter.api.audit import note_records
from adapter.api.context import app_services
from adapter.api.http import (
    if_match_version,
    json_response,
    page_parameters,
    public,
    read_json_body,
    unknown_parameters,
    version_etag,
)
from adapter.api.native_scopes import require_native
from adapter.api.openapi import openapi_document
from adapter.errors import InvalidInput, Issue
from adapter.native.referral_schema import load_referral
from adapter.store import ReferralFilters, ReferralRecord

native_blueprint = Blueprint("native", __name__)

_TEXT_FILTERS = ("status", "source", "setting", "site", "urgency", "nhs_number", "local_id")
_DATE_FILTERS = ("received_from", "received_to")
_PAGING = ("limit", "offset")
_LIST_PARAMETERS = _TEXT_FILTERS + _DATE_FILTERS + _PAGING


@native_blueprint.post("/referrals")
def create_referral() -> Response:
    """Receive a referral; 201 with the stored record and its FHIR resource ids."""
    require_native("create_referral")
    referral = load_referral(read_json_body())
    context = app_services()
    record = services.receive_referral(context.store, referral, context.directory)
    location = url_for("native.read_referral", record_id=record.id, _external=False)
    return json_response(
        _record_json(record), 201, {"Location": location, "ETag": version_etag(record.version)}
    )


@native_blueprint.get("/referrals/<record_id>")
def read_referral(record_id: str) -> Response:
    """One referral record."""
    require_native("read_referral")
    record = services.get_referral(app_services().store, record_id)
    note_records([record.resource_ids])
    return json_response(_record_json(record), headers={"ETag": version_etag(record.version)})


@native_blueprint.put("/referrals/<record_id>")
def update_referral(record_id: str) -> Response:
    """Replace a referral's content; If-Match guards against overwriting a newer version."""
    require_native("update_referral")
    referral = load_referral(read_json_body())
    context = app_services()
    record = services.update_referral(
        context.store, record_id, referral, context.directory, if_match_version()
    )
    return json_response(_record_json(record), headers={"ETag": version_etag(record.version)})


@native_blueprint.get("/referrals")
def list_referrals() -> Response:
    """Referral records, newest received first, filtered by the query parameters."""
    require_native("list_referrals")
    filters, limit, offset = _parse_list_query()
    records, total = services.list_referrals(app_services().store, filters, limit, offset)
    note_records(r.resource_ids for r in records)
    body: dict = {"total": total, "items": [_record_json(r) for r in records], "links": {}}
    query: dict[str, Any] = {k: v for k, v in request.args.items() if k not in _PAGING}
    if offset + limit < total:
        body["links"]["next"] = url_for(
            "native.list_referrals", **query, limit=limit, offset=offset + limit
        )
    if offset > 0:
        body["links"]["prev"] = url_for(
            "native.list_referrals", **query, limit=limit, offset=max(offset - limit, 0)
        )
    return json_response(body)


@native_blueprint.get("/openapi.json")
@public
def openapi() -> Response:
    """The OpenAPI 3 description of this API (public, like /fhir/metadata: it holds no data)."""
    return json_response(openapi_document())


def _record_json(record: ReferralRecord) -> dict:
    next_seen = services.next_seen_from(record, app_services().directory)
    return {
        "id": record.id,
        "version": record.version,
        "created_at": record.created_at.isoformat(),
        "updated_at": record.updated_at.isoformat(),
        "status": record.status,
        "next_seen_from": next_seen.isoformat() if next_seen else None,
        "fhir": record.resource_ids,
        "referral": record.native,
        # Data-quality warnings (OperationOutcome issues), e.g. a person who matched a stored
        # one by NHS number but with a different birth date: linked, and said, never silent.
        "warnings": record.warnings,
    }


def _parse_list_query() -> tuple[ReferralFilters, int, int]:
    issues = unknown_parameters(_LIST_PARAMETERS)
    values: dict[str, object] = {
        name: request.args[name] for name in _TEXT_FILTERS if name in request.args
    }
    for name in _DATE_FILTERS:
        if name in request.args:
            try:
                parsed = datetime.fromisoformat(request.args[name])
            except ValueError:
                parsed = None
            if parsed is None or parsed.tzinfo is None:
                issues.append(
                    Issue(f"{name} must be an ISO 8601 date-time with a zone.", expression=(name,))
                )
            else:
                values[name] = parsed
    limit, offset = page_parameters(issues)
    if issues:
        raise InvalidInput(issues)
    return ReferralFilters(**values), limit, offset  # type: ignore[arg-type]
