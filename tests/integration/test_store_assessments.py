"""AssessmentRepository on SQLite and PostgreSQL: versions kept, referral link enforced."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from adapter.errors import NotFound, PreconditionFailed
from adapter.store import AssessmentRecord, Store
from tests.integration.store_fixtures import *  # noqa: F403  (the store fixtures)
from tests.integration.test_store_referrals import record as referral_record

T0 = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


def assessment(**changes: object) -> AssessmentRecord:
    base = AssessmentRecord(
        id="a-1",
        version=1,
        referral_id="r-L-1",
        kind="screening",
        status="in-progress",
        created_at=T0,
        updated_at=T0,
        native={"kind": "screening", "answers": {"capacity": ["has-capacity"]}},
        resource_ids={"questionnaire_response": "QuestionnaireResponse/q1"},
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_amendments_keep_every_version(store: Store) -> None:
    with store.unit_of_work() as uow:
        uow.referrals.add(referral_record())
        uow.assessments.add(assessment())
    with store.unit_of_work() as uow:
        done = uow.assessments.update(assessment(status="completed"), expected_version=1)
    assert (done.version, done.created_at) == (2, T0)
    with store.unit_of_work() as uow:
        assert uow.assessments.get("a-1") == done
        assert [r.status for r in uow.assessments.history("a-1")] == ["in-progress"]
        assert [r.id for r in uow.assessments.for_referral("r-L-1")] == ["a-1"]


def test_a_stale_version_or_missing_record_is_refused(store: Store) -> None:
    with store.unit_of_work() as uow:
        uow.referrals.add(referral_record())
        uow.assessments.add(assessment())
    with pytest.raises(PreconditionFailed), store.unit_of_work() as uow:
        uow.assessments.update(assessment(status="completed"), expected_version=7)
    with pytest.raises(NotFound), store.unit_of_work() as uow:
        uow.assessments.update(assessment(id="nope"))


def test_an_assessment_must_belong_to_a_stored_referral(store: Store) -> None:
    with pytest.raises(sa.exc.IntegrityError), store.unit_of_work() as uow:
        uow.assessments.add(assessment(referral_id="no-such-referral"))
