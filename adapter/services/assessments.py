"""Screening and assessment use cases: record, amend (a new version, the old kept), read, list."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from adapter.conformance.questionnaire_response import QuestionnaireIndex
from adapter.directory import SiteService
from adapter.domain.assessment import Assessment, AssessmentResourceIds
from adapter.domain.pathway import amended_status, stage_after_assessment
from adapter.errors import Issue, NotFound
from adapter.mapping.assessment import AssessmentResources, assessment_to_fhir
from adapter.mapping.findings import screening_findings
from adapter.mapping.screen_consents import consents_after_screen
from adapter.native.assessment_schema import dump_assessment
from adapter.native.referral_schema import load_referral
from adapter.services.common import (
    bare_id,
    ensure_conformant,
    new_id,
    refuse_change,
    reuse_ids,
    save_children,
    service_for_site,
)
from adapter.services.referrals import existing_referral, replace_referral_content
from adapter.store import AssessmentRecord, ReferralRecord, Store, UnitOfWork


def record_assessment(
    store: Store,
    referral_id: str,
    assessment: Assessment,
    questionnaires: QuestionnaireIndex,
    directory: list[dict],
) -> AssessmentRecord:
    """Store a new screening or assessment for a referral, and move the referral's pathway on."""
    with store.unit_of_work() as uow:
        referral = existing_referral(uow, referral_id)
        service = service_for_site(uow, assessment.site, directory, "site")
        ids = AssessmentResourceIds(
            questionnaire_response=new_id(),
            encounter=new_id(),
            flags=[new_id() for _ in assessment.risks],
        )
        resources = _map(assessment, ids, referral, questionnaires, service)
        ensure_conformant(resources.all())
        for resource in resources.all():
            uow.resources.create(resource)
        now = datetime.now(UTC)
        record = AssessmentRecord(
            id=new_id(),
            version=1,
            referral_id=referral.id,
            kind=assessment.kind,
            status=assessment.status,
            created_at=now,
            updated_at=now,
            native=dump_assessment(assessment),
            resource_ids=_resource_ids_json(ids),
        )
        stored = uow.assessments.add(record)
        _update_referral(uow, referral, assessment, questionnaires, directory)
        return stored


def amend_assessment(
    store: Store,
    assessment_id: str,
    assessment: Assessment,
    questionnaires: QuestionnaireIndex,
    directory: list[dict],
    expected_version: int | None,
) -> AssessmentRecord:
    """Replace an assessment's answers: the FHIR resources and the record get new versions."""
    with store.unit_of_work() as uow:
        record = _existing(uow, assessment_id)
        refuse_change("kind", record.kind, assessment.kind, "record a new assessment instead")
        service = service_for_site(uow, assessment.site, directory, "site")
        assessment = replace(assessment, status=amended_status(record.status, assessment.status))
        referral = existing_referral(uow, record.referral_id)
        ids = _ids_from_json(record.resource_ids)
        old_flag_ids = ids.flags
        ids.flags = reuse_ids(old_flag_ids, len(assessment.risks))
        resources = _map(assessment, ids, referral, questionnaires, service)
        ensure_conformant(resources.all())
        uow.resources.update(resources.questionnaire_response)
        uow.resources.update(resources.encounter)
        save_children(uow, "Flag", old_flag_ids, resources.flags, "inactive")
        updated = replace(
            record,
            status=assessment.status,
            updated_at=datetime.now(UTC),
            native=dump_assessment(assessment),
            resource_ids=_resource_ids_json(ids),
        )
        stored = uow.assessments.update(updated, expected_version)
        _update_referral(uow, referral, assessment, questionnaires, directory)
        return stored


def get_assessment(store: Store, assessment_id: str) -> AssessmentRecord:
    """One assessment record, or NotFound."""
    with store.unit_of_work(read_only=True) as uow:
        return _existing(uow, assessment_id)


def assessment_history(store: Store, assessment_id: str) -> list[AssessmentRecord]:
    """Every version of an assessment, newest first."""
    with store.unit_of_work(read_only=True) as uow:
        return [_existing(uow, assessment_id), *uow.assessments.history(assessment_id)]


def referral_assessments(store: Store, referral_id: str) -> list[AssessmentRecord]:
    """The assessments recorded for a referral, oldest first."""
    with store.unit_of_work(read_only=True) as uow:
        existing_referral(uow, referral_id)
        return uow.assessments.for_referral(referral_id)


def _map(
    assessment: Assessment,
    ids: AssessmentResourceIds,
    referral: ReferralRecord,
    questionnaires: QuestionnaireIndex,
    service: SiteService,
) -> AssessmentResources:
    return assessment_to_fhir(
        assessment,
        ids,
        patient=bare_id(referral.resource_ids["patient"]) or "",
        service_request=bare_id(referral.resource_ids["service_request"]) or "",
        questionnaire_index=questionnaires,
        provider=service.provider,
    )


def _update_referral(
    uow: UnitOfWork,
    referral: ReferralRecord,
    assessment: Assessment,
    questionnaires: QuestionnaireIndex,
    directory: list[dict],
) -> None:
    """Move the referral's pathway on; take in what a finished screen found and the consent it got.

    Reasons only grow: a concern the referrer raised, or an earlier screen found, stays. Consent
    decisions the screen records replace the referral's for the same scope (new Consent versions).
    """
    content = load_referral(referral.native)
    stage = stage_after_assessment(referral.status, assessment.kind, assessment.status)
    concerns, consents = content.concerns, content.consents
    if assessment.status in ("completed", "amended"):
        found = screening_findings(assessment, questionnaires)
        concerns = tuple(dict.fromkeys((*content.concerns, *found)))
        consents = consents_after_screen(content.consents, assessment)
    if (stage, concerns, consents) == (referral.status, content.concerns, content.consents):
        return
    changed = replace(content, status=stage, concerns=concerns, consents=consents)
    replace_referral_content(uow, referral, changed, directory)


def _existing(uow: UnitOfWork, assessment_id: str) -> AssessmentRecord:
    record = uow.assessments.get(assessment_id)
    if record is None:
        raise NotFound(Issue("No assessment has this id.", code="not-found"))
    return record


def _resource_ids_json(ids: AssessmentResourceIds) -> dict:
    return {
        "questionnaire_response": f"QuestionnaireResponse/{ids.questionnaire_response}",
        "encounter": f"Encounter/{ids.encounter}",
        "flags": [f"Flag/{flag}" for flag in ids.flags],
    }


def _ids_from_json(resource_ids: dict) -> AssessmentResourceIds:
    return AssessmentResourceIds(
        questionnaire_response=bare_id(resource_ids["questionnaire_response"]) or "",
        encounter=bare_id(resource_ids["encounter"]) or "",
        flags=[bare_id(flag) or "" for flag in resource_ids.get("flags", [])],
    )
