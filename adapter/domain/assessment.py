"""A screening or assessment as plain data: what the L&D practitioner found, answer by answer.

No Flask, SQLAlchemy or FHIR here. Answers are keyed by the linkId of the Questionnaire the
assessment follows; their meanings, and the FHIR shape, live in `conformance/questionnaires/`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal


@dataclass(frozen=True)
class CodedAnswer:
    """A coded answer: a code from the item's answer options, with its display."""

    system: str
    code: str
    display: str | None = None


AnswerValue = bool | int | Decimal | str | date | datetime | CodedAnswer


@dataclass(frozen=True)
class ProfessionalIdentifier:
    """A practitioner's registration: register code (gmc, nmc, hcpc, sds) and number."""

    register: str  # code of ld-professional-register; its identifier system is a property
    value: str


@dataclass(frozen=True)
class Practitioner:
    """Who screened or assessed the person."""

    name: str
    role_code: str | None = None  # code of ld-practitioner-role
    role_text: str | None = None  # free text, e.g. "Band 6 liaison nurse"
    identifier: ProfessionalIdentifier | None = None


@dataclass(frozen=True)
class Assessment:
    """One screening, assessment or custody identification recorded for a referral."""

    kind: str  # screening | assessment | custody-identification (ld-assessment-kind)
    questionnaire: str  # canonical url|version of the Questionnaire followed
    status: str  # in-progress | completed | amended | entered-in-error
    practitioner: Practitioner
    setting: str  # ld-referral-setting code: where the contact took place
    site: str  # Location id of the custody suite, court or clinic
    started_at: datetime
    answers: Mapping[str, tuple[AnswerValue, ...]]  # linkId -> values, calculated items excluded
    ended_at: datetime | None = None
    outcome: str | None = None  # screening outcome code, the answer to `screening-outcome`
    legal_status: str | None = None  # UK Core legal status: 19 (MHA s135), 20 (MHA s136)
    risks: tuple[str, ...] = ()  # ld-risk-flag codes, one Flag each


@dataclass
class AssessmentResourceIds:
    """The ids of the FHIR resources made from one assessment."""

    questionnaire_response: str
    encounter: str
    flags: list[str] = field(default_factory=list)
