"""Native screenings and assessments under /api: record for a referral, read, amend, history."""

from __future__ import annotations

from flask import Blueprint, Response, url_for

from adapter import services
from adapter.api.audit import note_records
from adapter.api.context import app_services
from adapter.api.http import if_match_version, json_response, read_json_body, version_etag
from adapter.api.native_scopes import require_native
from adapter.conformance.full import questionnaires
from adapter.native.assessment_schema import load_assessment
from adapter.store import AssessmentRecord

assessments_blueprint = Blueprint("assessments", __name__)


@assessments_blueprint.post("/referrals/<referral_id>/assessments")
def create_assessment(referral_id: str) -> Response:
    """Record a screening or assessment (in progress or completed) for a referral."""
    require_native("create_assessment")
    index = questionnaires()
    assessment = load_assessment(read_json_body(), index)
    context = app_services()
    record = services.record_assessment(
        context.store, referral_id, assessment, index, context.directory
    )
    location = url_for("assessments.read_assessment", assessment_id=record.id)
    headers = {"Location": location, "ETag": version_etag(record.version)}
    return json_response(_record_json(record), 201, headers)


@assessments_blueprint.get("/referrals/<referral_id>/assessments")
def list_assessments(referral_id: str) -> Response:
    """The screenings and assessments recorded for a referral, oldest first."""
    require_native("list_assessments")
    records = services.referral_assessments(app_services().store, referral_id)
    note_records(r.resource_ids for r in records)
    return json_response({"total": len(records), "items": [_record_json(r) for r in records]})


@assessments_blueprint.get("/assessments/<assessment_id>")
def read_assessment(assessment_id: str) -> Response:
    """One assessment, current version."""
    require_native("read_assessment")
    record = services.get_assessment(app_services().store, assessment_id)
    note_records([record.resource_ids])
    return json_response(_record_json(record), headers={"ETag": version_etag(record.version)})


@assessments_blueprint.put("/assessments/<assessment_id>")
def amend_assessment(assessment_id: str) -> Response:
    """Save more answers (in progress → completed) or amend a completed one; old versions kept."""
    require_native("amend_assessment")
    index = questionnaires()
    assessment = load_assessment(read_json_body(), index)
    context = app_services()
    record = services.amend_assessment(
        context.store, assessment_id, assessment, index, context.directory, if_match_version()
    )
    return json_response(_record_json(record), headers={"ETag": version_etag(record.version)})


@assessments_blueprint.get("/assessments/<assessment_id>/history")
def assessment_history(assessment_id: str) -> Response:
    """Every version of an assessment, newest first."""
    require_native("assessment_history")
    records = services.assessment_history(app_services().store, assessment_id)
    note_records(r.resource_ids for r in records[:1])
    return json_response({"total": len(records), "items": [_record_json(r) for r in records]})


def _record_json(record: AssessmentRecord) -> dict:
    return {
        "id": record.id,
        "version": record.version,
        "referral_id": record.referral_id,
        "kind": record.kind,
        "status": record.status,
        "created_at": record.created_at.isoformat(),
        "updated_at": record.updated_at.isoformat(),
        "fhir": record.resource_ids,
        "assessment": record.native,
    }
