"""The shared pieces of the use cases: the conformance gate before anything is stored."""

from __future__ import annotations

import pytest

from adapter.errors import Unprocessable
from adapter.services.common import ensure_conformant, reuse_ids

LD_PATIENT = "https://ld-adapter.github.io/fhir/StructureDefinition/ld-patient"


def test_a_resource_failing_our_profile_is_not_stored():
    patient = {
        "resourceType": "Patient",
        "id": "p1",
        "meta": {"profile": [LD_PATIENT]},
        "identifier": [{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9990012343"}],
        "birthDate": "1990-01-01",
    }
    with pytest.raises(Unprocessable) as raised:
        ensure_conformant([patient])
    assert raised.value.status == 422
    assert all(issue.severity == "error" for issue in raised.value.issues)
    assert any("Patient.identifier[0]" in issue.expression[0] for issue in raised.value.issues)


def test_warnings_alone_do_not_block():
    patient = {"resourceType": "Patient", "id": "p1", "birthDate": "1990-01-01"}
    ensure_conformant([patient])


def test_reuse_ids_keeps_order_and_adds_fresh_ones():
    ids = reuse_ids(["a", "b"], 3)
    assert ids[:2] == ["a", "b"]
    assert ids[2] not in ("a", "b")
    assert reuse_ids(["a", "b"], 1) == ["a"]
