"""The native assessment JSON ⇄ `adapter.domain.Assessment`, typed by its Questionnaire's items.

The schema checks each answer against the item it names (known linkId, value of the item's type,
code from its options); the Questionnaire's own rules (enableWhen, required, repeats) are then
checked by the QuestionnaireResponse validator on the mapped response, and its issues are reported
at native paths (`answers.<linkId>[n]`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from marshmallow import ValidationError, fields, post_load, validates_schema

from adapter.conformance.questionnaire_index import CompiledQuestionnaire, QuestionnaireIndex
from adapter.domain.assessment import (
    Assessment,
    CodedAnswer,
    Practitioner,
    ProfessionalIdentifier,
)
from adapter.errors import InvalidInput, Issue
from adapter.mapping.assessment import OUTCOME_LINK_ID
from adapter.mapping.contact import assessment_statuses, legal_status_codes
from adapter.native.assessment_answers import native_value, typed_answers
from adapter.native.assessment_issues import (
    check_with_questionnaire,
    native_issues,
    native_path_for,
)
from adapter.native.fields import (
    FHIR_ID,
    Code,
    NativeSchema,
    Text,
    ZonedDateTime,
    doc,
    text_list,
)
from adapter.native.issues import issues_from_messages
from adapter.native.rules import check_unique

# Names other modules have always imported from here; the issue mapping now lives next door.
__all__ = [
    "AssessmentSchema",
    "check_with_questionnaire",
    "dump_assessment",
    "load_assessment",
    "native_issues",
    "native_path_for",
]

_REQUIRED: dict[str, Any] = {
    "required": "This field is required.",
    "null": "This field may not be null.",
}
_OBJECT: dict[str, Any] = {**_REQUIRED, "type": "Expected a JSON object."}


class IdentifierSchema(NativeSchema):
    """A practitioner's professional registration."""

    register = Code("ld-professional-register", required=True, metadata=doc("gmc, nmc, hcpc, sds"))
    value = Text(32, required=True, metadata=doc("Registration number or SDS user id"))

    @post_load
    def _make(self, data: dict, **_: Any) -> ProfessionalIdentifier:
        return ProfessionalIdentifier(**data)


class PractitionerSchema(NativeSchema):
    """Who screened or assessed the person."""

    name = Text(100, required=True, metadata=doc("Practitioner's name"))
    role_code = Code("ld-practitioner-role", allow_none=True, metadata=doc("Role code"))
    role_text = Text(100, allow_none=True, metadata=doc("Role as free text"))
    identifier = fields.Nested(
        IdentifierSchema,
        allow_none=True,
        error_messages=_OBJECT,
        metadata=doc("Registration"),
    )

    @post_load
    def _make(self, data: dict, **_: Any) -> Practitioner:
        return Practitioner(**data)


class AssessmentSchema(NativeSchema):
    """A screening, assessment or custody identification in the native API."""

    kind = Code("ld-assessment-kind", required=True, metadata=doc("Kind of contact"))
    questionnaire = Text(256, required=True, metadata=doc("Questionnaire canonical url|version"))
    status = Text(32, required=True, metadata=doc("in-progress, completed, amended, ..."))
    practitioner = fields.Nested(
        PractitionerSchema,
        required=True,
        error_messages=_OBJECT,
        metadata=doc("Practitioner"),
    )
    setting = Code("ld-referral-setting", required=True, metadata=doc("Where the contact was"))
    site = Text(64, required=True, pattern=FHIR_ID, hint="Expected a Location id.")
    started_at = ZonedDateTime(required=True, error_messages=_REQUIRED, metadata=doc("Start"))
    ended_at = ZonedDateTime(allow_none=True, metadata=doc("End; required once completed"))
    answers = fields.Dict(
        keys=fields.String(),
        required=True,
        error_messages={**_REQUIRED, "invalid": "Expected a JSON object."},
        metadata=doc("linkId -> array of answer values"),
    )
    outcome = Text(64, allow_none=True, metadata=doc("Screening outcome code"))
    legal_status = Text(8, allow_none=True, metadata=doc("UK Core legal status: 19 or 20"))
    risks = text_list(Code("ld-risk-flag"), 10, metadata=doc("Risks found, each at most once"))

    def __init__(self, index: QuestionnaireIndex | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._index = index

    @property
    def index(self) -> QuestionnaireIndex:
        """The Questionnaires answers are checked against (ours unless given)."""
        if self._index is None:
            self._index = _default_index()
        return self._index

    @validates_schema(skip_on_field_errors=False)
    def _cross_checks(self, data: dict, **_: Any) -> None:
        errors: dict[str, Any] = {}
        if "status" in data and data["status"] not in assessment_statuses():
            errors["status"] = [f"Expected one of {', '.join(assessment_statuses())}."]
        _check_times(data, errors)
        if (
            data.get("legal_status") is not None
            and data["legal_status"] not in legal_status_codes()
        ):
            errors["legal_status"] = [f"Expected one of {', '.join(legal_status_codes())}."]
        check_unique(data.get("risks") or [], "risks", errors)
        questionnaire = self._questionnaire(data, errors)
        if questionnaire is not None and isinstance(data.get("answers"), dict):
            # Typed answers replace the raw ones for post_load (it only runs without errors).
            data["answers"] = typed_answers(questionnaire, data["answers"], errors)
            _check_outcome(questionnaire, data, errors)
        if errors:
            raise ValidationError(errors)

    def _questionnaire(self, data: dict, errors: dict) -> CompiledQuestionnaire | None:
        canonical = data.get("questionnaire")
        if canonical is None:
            return None
        found = self.index.get(canonical) if "|" in canonical else None
        if found is None:
            errors["questionnaire"] = ["Expected the url|version of a known Questionnaire."]
        return found

    @post_load
    def _make(self, data: dict, **_: Any) -> Assessment:
        data["risks"] = tuple(data.get("risks") or ())
        return Assessment(**data)


def _check_times(data: dict, errors: dict) -> None:
    started, ended, status = data.get("started_at"), data.get("ended_at"), data.get("status")
    if isinstance(started, datetime) and isinstance(ended, datetime) and ended < started:
        errors["ended_at"] = ["Expected ended_at on or after started_at."]
    elif status in ("completed", "amended") and ended is None:
        errors["ended_at"] = ["Expected ended_at once the assessment is completed."]
    elif status == "in-progress" and ended is not None:
        errors["ended_at"] = ["Expected no ended_at while the assessment is in progress."]


def _check_outcome(questionnaire: CompiledQuestionnaire, data: dict, errors: dict) -> None:
    """outcome repeats the answer to screening-outcome: taken from it, or checked against it."""
    if OUTCOME_LINK_ID not in questionnaire.items:
        if data.get("outcome") is not None:
            errors["outcome"] = ["Expected no outcome: this Questionnaire has no outcome item."]
        return
    answered = data["answers"].get(OUTCOME_LINK_ID, ())
    code = answered[0].code if answered and isinstance(answered[0], CodedAnswer) else None
    if data.get("outcome") is None:
        data["outcome"] = code
    elif data["outcome"] != code:
        errors["outcome"] = [f"Expected outcome to equal the answer to {OUTCOME_LINK_ID}."]


def _default_index() -> QuestionnaireIndex:
    from adapter.conformance.full import questionnaires  # cached; read on first use

    return questionnaires()


def load_assessment(payload: object, index: QuestionnaireIndex | None = None) -> Assessment:
    """Check a native assessment payload and build the Assessment; InvalidInput lists problems."""
    index = index or _default_index()
    if not isinstance(payload, dict):
        raise InvalidInput(Issue("Expected the assessment as a JSON object.", code="invalid"))
    try:
        assessment = cast(Assessment, AssessmentSchema(index).load(payload))
    except ValidationError as error:
        raise InvalidInput(issues_from_messages(error.messages)) from None
    check_with_questionnaire(assessment, index)
    return assessment


def dump_assessment(assessment: Assessment) -> dict:
    """The native JSON form of an Assessment (None and empty lists left out)."""
    practitioner: dict = {"name": assessment.practitioner.name}
    p = assessment.practitioner
    for key in ("role_code", "role_text"):
        if getattr(p, key) is not None:
            practitioner[key] = getattr(p, key)
    if p.identifier is not None:
        practitioner["identifier"] = {
            "register": p.identifier.register,
            "value": p.identifier.value,
        }
    native: dict = {
        "kind": assessment.kind,
        "questionnaire": assessment.questionnaire,
        "status": assessment.status,
        "practitioner": practitioner,
        "setting": assessment.setting,
        "site": assessment.site,
        "started_at": assessment.started_at.isoformat(),
        "ended_at": assessment.ended_at.isoformat() if assessment.ended_at else None,
        "answers": {k: [native_value(v) for v in vs] for k, vs in assessment.answers.items()},
        "outcome": assessment.outcome,
        "legal_status": assessment.legal_status,
        "risks": list(assessment.risks),
    }
    return {k: v for k, v in native.items() if v is not None and v != []}
