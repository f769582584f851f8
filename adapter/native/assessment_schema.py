"""The native assessment JSON ⇄ `adapter.domain.Assessment`, typed by its Questionnaire's items.

The schema checks each answer against the item it names (known linkId, value of the item's type,
code from its options); the Questionnaire's own rules (enableWhen, required, repeats) are then
checked by the QuestionnaireResponse validator on the mapped response, and its issues are reported
at native paths (`answers.<linkId>[n]`).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Any, cast

from marshmallow import ValidationError, fields, post_load, validates_schema

from adapter.conformance.questionnaire_response import (
    CompiledQuestionnaire,
    ItemDef,
    QuestionnaireIndex,
    validate_questionnaire_response,
)
from adapter.domain.assessment import (
    AnswerValue,
    Assessment,
    AssessmentResourceIds,
    CodedAnswer,
    Practitioner,
    ProfessionalIdentifier,
)
from adapter.errors import InvalidInput, Issue
from adapter.mapping.assessment import OUTCOME_LINK_ID, questionnaire_response_from_assessment
from adapter.mapping.contact import assessment_statuses, legal_status_codes
from adapter.mapping.questionnaire_response import answer_display
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

_REQUIRED: dict[str, Any] = {
    "required": "This field is required.",
    "null": "This field may not be null.",
}
_OBJECT: dict[str, Any] = {**_REQUIRED, "type": "Expected a JSON object."}
MAX_ANSWERS = 50
MAX_TEXT = 4000
_ITEM_PATH = re.compile(r"\.(item|answer)\[(\d+)\]")
_QUOTED = re.compile(r"'([^']+)'")


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
            data["answers"] = _answers(questionnaire, data["answers"], errors)
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


def _answers(q: CompiledQuestionnaire, raw: dict, errors: dict) -> dict:
    """Typed answers by linkId; problems go to errors["answers"][linkId]."""
    typed: dict[str, tuple[AnswerValue, ...]] = {}
    problems: dict[str, Any] = {}
    for link_id, values in raw.items():
        definition = q.items.get(link_id)
        if definition is None:
            problems[link_id] = [f"Unknown item: not a linkId of {q.url}|{q.version}."]
        elif definition.type in ("group", "display"):
            problems[link_id] = [f"Item is a {definition.type} and takes no answers."]
        elif definition.calculation is not None:
            problems[link_id] = ["Item is calculated by the adapter: leave it out."]
        elif not isinstance(values, list) or not values or len(values) > MAX_ANSWERS:
            problems[link_id] = [f"Expected a JSON array of 1 to {MAX_ANSWERS} answers."]
        else:
            parsed, item_problems = _values(q, definition, values)
            if item_problems:
                problems[link_id] = item_problems
            else:
                typed[link_id] = parsed
    if problems:
        errors["answers"] = problems
    return typed


def _values(
    q: CompiledQuestionnaire, definition: ItemDef, values: list
) -> tuple[tuple[AnswerValue, ...], dict[int, list[str]]]:
    parsed: list[AnswerValue] = []
    problems: dict[int, list[str]] = {}
    for index, value in enumerate(values):
        try:
            parsed.append(_value(q, definition, value))
        except ValidationError as error:
            problems[index] = cast(list[str], error.messages)
    return tuple(parsed), problems


def _value(q: CompiledQuestionnaire, definition: ItemDef, value: object) -> AnswerValue:
    """One native answer value as the typed value the item's type takes."""
    kind = definition.type
    if kind == "boolean" and isinstance(value, bool):
        return value
    if kind == "integer" and isinstance(value, int) and not isinstance(value, bool):
        return value
    if kind == "decimal" and isinstance(value, int | float) and not isinstance(value, bool):
        return Decimal(str(value))
    if kind in ("string", "text") and isinstance(value, str):
        return Text(MAX_TEXT).deserialize(value)
    if kind == "date" and isinstance(value, str):
        return _date(value)
    if kind == "dateTime" and isinstance(value, str):
        return cast(datetime, ZonedDateTime().deserialize(value))
    if kind in ("choice", "open-choice"):
        return _coded(q, definition, value)
    raise ValidationError(_expected(kind))


def _date(value: str) -> date:
    try:
        if len(value) == 10:
            return date.fromisoformat(value)
    except ValueError:
        pass
    raise ValidationError("Expected an ISO 8601 date, YYYY-MM-DD.")


def _coded(q: CompiledQuestionnaire, definition: ItemDef, value: object) -> AnswerValue:
    """A code string or {system, code} object resolved against the item's answer options."""
    options = definition.codings or frozenset()
    if isinstance(value, str):
        matches = [(s, c) for s, c in options if c == value]
        if definition.type == "open-choice" and not matches:
            return Text(MAX_TEXT).deserialize(value)
        if len(matches) > 1:
            raise ValidationError("Expected {system, code}: this code is in more than one system.")
        pair = matches[0] if matches else None
    elif isinstance(value, dict) and set(value) <= {"system", "code", "display"}:
        sent = (value.get("system"), value.get("code"))
        pair = sent if sent in options else None
    else:
        raise ValidationError("Expected a code string or an object with system and code.")
    if pair is None or pair[0] is None:
        raise ValidationError(f"Expected a code from {definition.options_from}.")
    system, code = pair[0], pair[1]
    return CodedAnswer(system, code, answer_display(q, system, code))


def _expected(kind: str) -> str:
    return {
        "boolean": "Expected true or false.",
        "integer": "Expected a whole number.",
        "decimal": "Expected a number.",
        "string": "Expected a string.",
        "text": "Expected a string.",
        "date": "Expected an ISO 8601 date, YYYY-MM-DD.",
        "dateTime": "Expected an ISO 8601 date-time with a zone, e.g. 2025-01-31T14:05:00Z.",
    }.get(kind, f"Items of type {kind} are not supported by the native API.")


def native_path_for(expression: str, response: dict) -> str:
    """The native field path (`answers.<linkId>[n]`) for a FHIRPath into a mapped response."""
    node: Any = response
    item: dict | None = None
    answer: int | None = None
    for part, index in _ITEM_PATH.findall(expression):
        node = node.get(part) if isinstance(node, dict) else None
        node = node[int(index)] if isinstance(node, list) and int(index) < len(node) else None
        if part == "item" and isinstance(node, dict):
            item, answer = node, None
        elif part == "answer":
            answer = int(index)
    if item is None:
        return "answers"
    link_id = item.get("linkId")
    if answer is None and "answer" not in item:
        link_id = _first_answered(item.get("item"))  # a group: point at its first answer
    if not isinstance(link_id, str):
        return "answers"
    return f"answers.{link_id}" + (f"[{answer}]" if answer is not None else "")


def _first_answered(items: object) -> str | None:
    for item in items if isinstance(items, list) else ():
        if isinstance(item, dict):
            if item.get("answer"):
                return item.get("linkId")
            found = _first_answered(item.get("item"))
            if found:
                return found
    return None


def _first_required(q: CompiledQuestionnaire | None, link_id: str) -> str:
    """A missing required group is named by its first required question (the native key)."""
    while q is not None and link_id in q.items and q.items[link_id].type == "group":
        children = [c for c in q.items[link_id].children if q.items[c].required]
        if not children:
            break
        link_id = children[0]
    return link_id


def native_issues(
    issues: list[Issue], response: dict, questionnaire: CompiledQuestionnaire | None = None
) -> list[Issue]:
    """Validator errors on a mapped response, re-pointed at native paths (warnings dropped)."""
    found = []
    for i in issues:
        if i.severity not in ("error", "fatal"):
            continue
        quoted = _QUOTED.search(i.diagnostics)
        if i.message_id == "LD-QR-REQUIRED-MISSING" and quoted:
            # Reported on the parent: name the missing item instead.
            path = f"answers.{_first_required(questionnaire, quoted.group(1))}"
        else:
            path = native_path_for(i.expression[0] if i.expression else "", response)
        found.append(Issue(i.diagnostics, i.code, i.severity, (path,), i.message_id))
    return found


def check_with_questionnaire(assessment: Assessment, index: QuestionnaireIndex) -> None:
    """Apply the Questionnaire's rules (enableWhen, required, repeats); InvalidInput if broken."""
    questionnaire = index.get(assessment.questionnaire)
    if questionnaire is None:
        raise ValueError("the assessment's questionnaire is not in the index")
    ids = AssessmentResourceIds("check", "check")
    response = questionnaire_response_from_assessment(
        assessment, ids, "check", "check", questionnaire
    )
    found = validate_questionnaire_response(response, index)
    issues = native_issues(found, response, questionnaire)
    if issues:
        raise InvalidInput(issues)


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


def _native_value(value: AnswerValue) -> object:
    if isinstance(value, CodedAnswer):
        return {"system": value.system, "code": value.code}
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


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
        "answers": {k: [_native_value(v) for v in vs] for k, vs in assessment.answers.items()},
        "outcome": assessment.outcome,
        "legal_status": assessment.legal_status,
        "risks": list(assessment.risks),
    }
    return {k: v for k, v in native.items() if v is not None and v != []}
