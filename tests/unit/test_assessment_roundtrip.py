"""Any answer values survive native → domain → FHIR → domain, and the native dump loads back."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, timedelta, timezone
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from adapter.conformance.full import questionnaires
from adapter.domain.assessment import Assessment, AssessmentResourceIds, CodedAnswer
from adapter.mapping.assessment import assessment_from_fhir, assessment_to_fhir
from adapter.native.assessment_schema import dump_assessment, load_assessment

ROOT = Path(__file__).resolve().parents[2]
ADULT = ROOT / "fixtures" / "native" / "assessments" / "adult-custody-telford.json"
CONCERN = "https://ld-adapter.github.io/fhir/CodeSystem/ld-mental-health-concern"


def _adult() -> Assessment:
    return load_assessment(json.loads(ADULT.read_text(encoding="utf-8")))


def _round_trip(assessment: Assessment) -> Assessment:
    ids = AssessmentResourceIds("qr", "enc", [f"f{n}" for n in range(len(assessment.risks))])
    resources = assessment_to_fhir(
        assessment,
        ids,
        patient="p",
        service_request="s",
        questionnaire_index=questionnaires(),
    )
    return assessment_from_fhir(resources, questionnaires())


text = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=200)
zones = st.integers(-14 * 60, 14 * 60).map(lambda m: timezone(timedelta(minutes=m)))
concerns = st.lists(
    st.sampled_from(["low-mood", "anxiety", "psychotic-symptoms", "trauma", "other"]),
    min_size=1,
    unique=True,
)


@settings(max_examples=60, deadline=None)
@given(
    team=text,
    medication=text,
    age=st.integers(-(2**31), 2**31 - 1),
    last_use=st.dates(),
    received=st.datetimes(timezones=zones),
    picked=concerns,
    past=st.booleans(),
)
def test_answer_values_survive_the_fhir_round_trip(  # type: ignore[no-untyped-def]
    team, medication, age, last_use, received, picked, past
) -> None:
    adult = _adult()
    answers = {
        **adult.answers,
        "current-team": (team,),
        "medication-details": (medication,),
        "age-years": (age,),
        "last-use-date": (last_use,),
        "received-at": (received,),
        "presenting-concerns": tuple(CodedAnswer(CONCERN, c, None) for c in picked),
        "past-self-harm": (past,),
    }
    assessment = replace(adult, answers=answers, status="in-progress", ended_at=None)
    back = _round_trip(assessment)
    assert back.answers == assessment.answers
    assert back == assessment


def test_the_native_dump_loads_back_to_the_same_assessment() -> None:
    adult = _adult()
    assert load_assessment(dump_assessment(adult)) == adult
    assert load_assessment(json.loads(json.dumps(dump_assessment(adult)))) == adult


def test_utc_and_offset_times_keep_their_instant() -> None:
    adult = _adult()
    assert adult.started_at.tzinfo is not None
    assert adult.started_at.astimezone(UTC).isoformat() == "2026-11-24T10:00:00+00:00"
    assert _round_trip(adult).started_at == adult.started_at
