"""A whole Assessment ⇄ its FHIR resources: QuestionnaireResponse, Encounter and Flags."""

from __future__ import annotations

from dataclasses import dataclass, field

from adapter.conformance.questionnaire_response import CompiledQuestionnaire, QuestionnaireIndex
from adapter.domain.assessment import Assessment, AssessmentResourceIds, CodedAnswer
from adapter.mapping.bundle import collection_bundle
from adapter.mapping.common import fhir_datetime, invalid, profile, reference
from adapter.mapping.contact import (
    AUTHOR_ID,
    assessment_statuses,
    contact_from_encounter,
    encounter_from_assessment,
    practitioner_contained,
    practitioner_from,
)
from adapter.mapping.flag import flag_from_risk, risk_from_flag
from adapter.mapping.narrative import answer_text, narrative
from adapter.mapping.questionnaire_response import (
    Answers,
    answers_from_items,
    response_items,
    with_calculations,
)

# The item whose answer is the screening outcome (Questionnaire ld-screening).
OUTCOME_LINK_ID = "screening-outcome"


@dataclass
class AssessmentResources:
    """The FHIR resources made from one assessment, as plain dicts."""

    questionnaire_response: dict
    encounter: dict
    flags: list[dict] = field(default_factory=list)

    def all(self) -> list[dict]:
        """Every resource, in bundle order."""
        return [self.questionnaire_response, self.encounter, *self.flags]


def compiled_questionnaire(index: QuestionnaireIndex, canonical: str) -> CompiledQuestionnaire:
    """The Questionnaire an assessment follows; ValueError when it is not loaded (a caller bug)."""
    found = index.get(canonical)
    if found is None:
        raise ValueError("the assessment's questionnaire is not in the index")
    return found


def assessment_to_fhir(
    assessment: Assessment,
    ids: AssessmentResourceIds,
    *,
    patient: str,
    service_request: str,
    questionnaire_index: QuestionnaireIndex,
    provider: str | None = None,
) -> AssessmentResources:
    """Map an assessment to R4 resources; patient and service_request are resource ids.

    provider is the trust running the L&D service at the site (`Organization/x`), if known.
    """
    if len(ids.flags) != len(assessment.risks):
        raise ValueError("ids.flags must hold one id per risk")
    questionnaire = compiled_questionnaire(questionnaire_index, assessment.questionnaire)
    return AssessmentResources(
        questionnaire_response=questionnaire_response_from_assessment(
            assessment, ids, patient, service_request, questionnaire
        ),
        encounter=encounter_from_assessment(
            assessment, ids.encounter, patient, service_request, provider
        ),
        flags=[
            flag_from_risk(assessment, risk, flag_id, patient, ids.encounter)
            for risk, flag_id in zip(assessment.risks, ids.flags, strict=True)
        ],
    )


def questionnaire_response_from_assessment(
    assessment: Assessment,
    ids: AssessmentResourceIds,
    patient: str,
    service_request: str,
    questionnaire: CompiledQuestionnaire,
) -> dict:
    """The QuestionnaireResponse, nested as the Questionnaire's items, calculations filled."""
    answers = with_calculations(questionnaire, assessment.answers)
    items = response_items(questionnaire, answers)
    response: dict = {"resourceType": "QuestionnaireResponse", "id": ids.questionnaire_response}
    response["meta"] = profile("QuestionnaireResponse")
    response["text"] = _narrative(assessment, questionnaire, answers)
    response["contained"] = practitioner_contained(assessment.practitioner)
    response["questionnaire"] = assessment.questionnaire
    response["basedOn"] = [reference("ServiceRequest", service_request)]
    response["status"] = assessment.status
    response["subject"] = reference("Patient", patient)
    response["encounter"] = reference("Encounter", ids.encounter)
    response["authored"] = fhir_datetime(assessment.ended_at or assessment.started_at)
    response["author"] = {"reference": f"#{AUTHOR_ID}"}
    if items:
        response["item"] = items
    return response


def _narrative(
    assessment: Assessment, questionnaire: CompiledQuestionnaire, answers: Answers
) -> dict:
    title = questionnaire.resource.get("title") or questionnaire.resource.get("name", "")
    summary = [
        ("Status", assessment.status),
        ("Recorded by", assessment.practitioner.name),
        ("Started", fhir_datetime(assessment.started_at)),
    ]
    if assessment.ended_at is not None:
        summary.append(("Completed", fhir_datetime(assessment.ended_at)))
    sections: list[tuple[str, list[tuple[str, str]]]] = []
    loose: list[tuple[str, str]] = []  # questions outside any group
    for link_id in questionnaire.top:
        definition = questionnaire.items[link_id]
        if definition.type == "group":
            sections.append((definition.text or link_id, _rows(questionnaire, link_id, answers)))
        elif answers.get(link_id):
            loose.extend(_rows(questionnaire, link_id, answers))
    if loose:
        sections.insert(0, ("Answers", loose))
    return narrative(title, summary, sections)


def _rows(q: CompiledQuestionnaire, link_id: str, answers: Answers) -> list[tuple[str, str]]:
    """Question and answer rows for an item and everything under it, in Questionnaire order."""
    definition = q.items[link_id]
    rows = []
    values = answers.get(link_id)
    if values:
        rows.append((definition.text or link_id, "; ".join(answer_text(v) for v in values)))
    for child in definition.children:
        rows.extend(_rows(q, child, answers))
    return rows


def assessment_from_fhir(
    resources: AssessmentResources, questionnaire_index: QuestionnaireIndex
) -> Assessment:
    """The Assessment that `assessment_to_fhir` made these resources from."""
    response = resources.questionnaire_response
    canonical = response.get("questionnaire")
    questionnaire = questionnaire_index.get(canonical) if isinstance(canonical, str) else None
    if questionnaire is None or "|" not in str(canonical):
        raise invalid(
            "Expected the canonical url|version of a known Questionnaire.",
            "QuestionnaireResponse.questionnaire",
        )
    answers = answers_from_items(questionnaire, response.get("item"), "QuestionnaireResponse")
    status = response.get("status")
    if status not in assessment_statuses():
        raise invalid(
            f"Expected status {', '.join(assessment_statuses())}.", "QuestionnaireResponse.status"
        )
    contact = contact_from_encounter(resources.encounter)
    return Assessment(
        questionnaire=str(canonical),
        status=str(status),
        practitioner=practitioner_from(response, "QuestionnaireResponse"),
        answers=answers,
        outcome=_outcome(answers),
        risks=tuple(risk_from_flag(flag, i) for i, flag in enumerate(resources.flags)),
        **contact,
    )


def _outcome(answers: Answers) -> str | None:
    values = answers.get(OUTCOME_LINK_ID, ())
    return values[0].code if values and isinstance(values[0], CodedAnswer) else None


def assessment_bundle(resources: AssessmentResources, base_url: str) -> dict:
    """The resources of one assessment as a collection Bundle."""
    return collection_bundle(resources.all(), base_url)
