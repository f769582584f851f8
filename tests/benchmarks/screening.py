"""Screening: map one full L&D screening to FHIR and validate it against its Questionnaire."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import orjson

from adapter.conformance import has_errors, validate
from adapter.conformance.full import questionnaires
from adapter.conformance.questionnaire_response import validate_questionnaire_response
from adapter.domain.assessment import AssessmentResourceIds
from adapter.mapping.assessment import AssessmentResources, assessment_to_fhir
from adapter.native.assessment_schema import load_assessment

ROOT = Path(__file__).resolve().parents[2]
SCREENING_FILE = ROOT / "fixtures" / "native" / "assessments" / "adult-custody-telford.json"
Median = Callable[[Callable[[], object], int], float]


def screening_section(median: Median) -> list[str]:
    """Native screening → QuestionnaireResponse + Encounter + Flags, then the validators."""
    index = questionnaires()
    payload = orjson.loads(SCREENING_FILE.read_bytes())
    assessment = load_assessment(payload, index)
    ids = AssessmentResourceIds(
        "qr-1", "enc-1", [f"flag-{i}" for i in range(len(assessment.risks))]
    )

    def map_only() -> AssessmentResources:
        return assessment_to_fhir(
            assessment, ids, patient="p-1", service_request="sr-1", questionnaire_index=index
        )

    def map_and_check_answers() -> object:
        resources = map_only()
        return validate_questionnaire_response(resources.questionnaire_response, index)

    def load_map_and_validate_fully() -> object:
        resources = assessment_to_fhir(
            load_assessment(payload, index),
            ids,
            patient="p-1",
            service_request="sr-1",
            questionnaire_index=index,
        )
        return [validate(resource) for resource in resources.all()]

    resources = map_only()
    assert not any(has_errors(validate(r)) for r in resources.all())
    answered = len(assessment.answers)
    mapped = median(map_only, 2000)
    checked = median(map_and_check_answers, 1000)
    full = median(load_map_and_validate_fully, 500)
    return [
        "## Screening (native → QuestionnaireResponse + Encounter + Flag, validated), one core",
        "",
        f"Input: `{SCREENING_FILE.relative_to(ROOT)}` ({answered} answered items of the "
        "ld-screening Questionnaire, AUDIT-C total calculated).",
        "",
        "| measure | median | target |",
        "| --- | --- | --- |",
        f"| map to FHIR | {mapped * 1e3:.2f} ms | |",
        f"| map + check against the Questionnaire | {checked * 1e3:.2f} ms | ≤ 5 ms |",
        f"| load native + map + full `validate` (base, profiles, Questionnaire) | "
        f"{full * 1e3:.2f} ms | ≤ 5 ms |",
        "",
    ]


SECTIONS = [screening_section]
