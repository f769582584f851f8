"""A GP document is about one person: a record holding two NHS numbers is not sent."""

from __future__ import annotations

import pytest

from adapter.errors import Unprocessable
from adapter.exchange.gp_send_document import identity_of
from tests.unit.test_gp_send_document import NHS, PATIENT


def test_a_person_with_two_nhs_numbers_is_refused_naming_the_nhs_number() -> None:
    """Review F8: a Patient merged before the fix sent both numbers to the practice."""
    patient = {
        **PATIENT,
        "identifier": [
            {"system": NHS, "value": "9990012342"},
            {"system": NHS, "value": "9990012350"},
        ],
    }
    with pytest.raises(Unprocessable) as refused:
        identity_of(patient)
    issue = refused.value.issues[0]
    assert issue.expression == ("person.nhs_number",)
    assert "9990012" not in issue.diagnostics


def test_the_same_nhs_number_twice_is_one_number() -> None:
    patient = {
        **PATIENT,
        "identifier": [*PATIENT["identifier"], {"system": NHS, "value": "9990012342"}],
    }
    assert identity_of(patient).nhs_number == "9990012342"
