"""Answering a referral a partner sent: POST a decision, then outcomes; each goes back to them."""

from __future__ import annotations

from flask import Blueprint, Response

from adapter.api.context import app_services
from adapter.api.http import json_response, read_json_body
from adapter.api.native_scopes import require_native
from adapter.exchange.worker import wake
from adapter.native.answer_schema import load_answer
from adapter.services import answers

answers_blueprint = Blueprint("answers", __name__)


@answers_blueprint.post("/referrals/<referral_id>/decision")
def record_decision(referral_id: str) -> Response:
    """Accept or reject a referral received from a partner; the response is queued; 201."""
    require_native("record_decision")
    return _record(referral_id, "decision")


@answers_blueprint.post("/referrals/<referral_id>/outcome")
def record_outcome(referral_id: str) -> Response:
    """Record what happened after acceptance (seen, did-not-attend, completed, …); 201."""
    require_native("record_outcome")
    return _record(referral_id, "outcome")


@answers_blueprint.get("/referrals/<referral_id>/answers")
def list_answers(referral_id: str) -> Response:
    """The decision and outcomes recorded for a referral, oldest first, with their delivery."""
    require_native("list_answers")
    views = answers.answers_of(app_services().store, referral_id)
    return json_response({"total": len(views), "items": [v.to_json() for v in views]})


def _record(referral_id: str, kind: str) -> Response:
    request = load_answer(kind, read_json_body())
    context = app_services()
    view = answers.record_answer(
        context.store, context.settings, referral_id, request, context.directory
    )
    wake()  # committed: this process's delivery loop (if `serve` runs one) sends it now
    return json_response(view.to_json(), 201)
