"""Native onward referrals under /api: refer a person on to a partner, follow delivery, cancel."""

from __future__ import annotations

from flask import Blueprint, Response, request, url_for

from adapter import services
from adapter.api.audit import note_purpose, note_records
from adapter.api.context import app_services
from adapter.api.http import (
    json_response,
    page_parameters,
    read_json_body,
    unknown_parameters,
    version_etag,
)
from adapter.api.native_scopes import require_native
from adapter.errors import InvalidInput, Issue
from adapter.exchange.worker import wake
from adapter.mapping import codes
from adapter.native.onward_referral_schema import load_onward_referral
from adapter.services.onward_view import OnwardReferralView

onward_blueprint = Blueprint("onward", __name__)


@onward_blueprint.post("/referrals/<referral_id>/onward-referrals")
def create_onward_referral(referral_id: str) -> Response:
    """Refer the person on: consent checked, the message queued for the partner; 201."""
    require_native("create_onward_referral")
    request_body = load_onward_referral(read_json_body())
    if request_body.lawful_basis:  # sharing without consent: the audit says on what basis
        note_purpose(codes.coding("ld-lawful-basis", request_body.lawful_basis))
    context = app_services()
    view = services.refer_onward(
        context.store, context.settings, referral_id, request_body, context.directory
    )
    wake()  # committed: this process's delivery loop (if `serve` runs one) sends it now
    location = url_for("onward.read_onward_referral", onward_id=view.record.id)
    headers = {"Location": location, "ETag": version_etag(view.record.version)}
    return json_response(view.to_json(), 201, headers)


@onward_blueprint.get("/referrals/<referral_id>/onward-referrals")
def list_onward_referrals(referral_id: str) -> Response:
    """The onward referrals made for a referral, oldest first, each with its delivery."""
    require_native("list_onward_referrals")
    views = services.onward_referrals_of(app_services().store, referral_id)
    note_records(view.record.resource_ids for view in views)
    return json_response({"total": len(views), "items": [view.to_json() for view in views]})


@onward_blueprint.get("/onward-referrals")
def search_onward_referrals() -> Response:
    """Every onward referral, newest first (limit, offset); ?overdue=true: those to chase."""
    require_native("search_onward_referrals")
    overdue, limit, offset = _search_query()
    context = app_services()
    if overdue:
        views = services.overdue_onward_referrals(context.store)
        total = len(views)
        views = views[offset : offset + limit]
    else:
        views, total = services.all_onward_referrals(context.store, limit, offset)
    note_records(view.record.resource_ids for view in views)
    return json_response({"total": total, "items": [view.to_json() for view in views]})


def _search_query() -> tuple[bool, int, int]:
    issues = unknown_parameters(_SEARCH)
    overdue = request.args.get("overdue", "false")
    if overdue not in ("true", "false"):
        issues.append(Issue("overdue must be true or false.", expression=("overdue",)))
    limit, offset = page_parameters(issues)
    if issues:
        raise InvalidInput(issues)
    return overdue == "true", limit, offset


_SEARCH = ("overdue", "limit", "offset")


@onward_blueprint.get("/onward-referrals/<onward_id>")
def read_onward_referral(onward_id: str) -> Response:
    """One onward referral and where its delivery is."""
    require_native("read_onward_referral")
    view = services.get_onward_referral(app_services().store, onward_id)
    note_records([view.record.resource_ids])
    return json_response(view.to_json(), headers={"ETag": version_etag(view.record.version)})


@onward_blueprint.post("/onward-referrals/<onward_id>/cancel")
def cancel_onward_referral(onward_id: str) -> Response:
    """Cancel while active: an undelivered message is withdrawn, a delivered one is cancelled."""
    require_native("cancel_onward_referral")
    context = app_services()
    view: OnwardReferralView = services.cancel_onward_referral(
        context.store, context.settings, onward_id, context.directory
    )
    wake()
    return json_response(view.to_json(), headers={"ETag": version_etag(view.record.version)})
