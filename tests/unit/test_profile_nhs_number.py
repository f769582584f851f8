"""ld-nhs-1: the published FHIRPath and the native Modulus 11 check agree."""

from __future__ import annotations

import fhirpathpy
from fhirpathpy.models import models
from hypothesis import given, settings
from hypothesis import strategies as st

from adapter.conformance import conformance_resource
from adapter.domain import is_valid_nhs_number


def _published_expression() -> str:
    sd = conformance_resource("StructureDefinition", "ld-patient")
    assert sd is not None
    constraints = [c for e in sd["differential"]["element"] for c in e.get("constraint", [])]
    return next(c["expression"] for c in constraints if c["key"] == "ld-nhs-1")


FHIRPATH = fhirpathpy.compile(_published_expression(), models["r4"])


@settings(max_examples=300, deadline=None)
@given(st.from_regex(r"[0-9]{10}", fullmatch=True))
def test_fhirpath_and_python_agree_for_ten_digits(number: str) -> None:
    assert (FHIRPATH({"value": number}, {}) == [True]) is is_valid_nhs_number(number)


def test_fhirpath_rejects_what_is_not_ten_digits() -> None:
    for value in ("999001234", "99900123420", "999001234X"):
        assert FHIRPATH({"value": value}, {}) != [True]
    assert FHIRPATH({"value": "9990012342"}, {}) == [True]
