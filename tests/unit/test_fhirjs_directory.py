"""FHIR.js (independent of fhir.resources) passes our service directory and the UK Core examples."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from adapter.directory import DEFAULT_DIRECTORY
from tests.support.fhirjs import FhirJs

pytestmark = pytest.mark.fhirjs

UKCORE_EXAMPLES = Path("/work/shared/reference/ukcore")
DIRECTORY_FILES = sorted(DEFAULT_DIRECTORY.glob("*.json"))
UKCORE_FILES = sorted(UKCORE_EXAMPLES.glob("*.json"))
# The `fhirjs` fixture (one FHIR.js process per run) is in tests/conftest.py.


def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def test_the_directory_has_files_to_check() -> None:
    assert len(DIRECTORY_FILES) >= 17


@pytest.mark.parametrize("path", DIRECTORY_FILES, ids=lambda p: p.name)
def test_service_directory_resource_passes_fhirjs(fhirjs: FhirJs, path: Path) -> None:
    assert fhirjs.validate(load(path)) == []


@pytest.mark.skipif(not UKCORE_FILES, reason="UK Core reference examples are not on this machine")
@pytest.mark.parametrize("path", UKCORE_FILES, ids=lambda p: p.name)
def test_ukcore_example_passes_fhirjs(fhirjs: FhirJs, path: Path) -> None:
    assert fhirjs.validate(load(path)) == []


def test_harness_reports_a_code_outside_a_required_binding(fhirjs: FhirJs) -> None:
    errors = fhirjs.validate({"resourceType": "Patient", "gender": 5})
    assert [e["location"] for e in errors] == ["Patient.gender"]


def test_harness_reports_an_unknown_element(fhirjs: FhirJs) -> None:
    errors = fhirjs.validate({"resourceType": "Patient", "favouriteColour": "red"})
    assert [(e["location"], e["message"]) for e in errors] == [
        ("Patient.favouriteColour", "Unexpected property")
    ]


def test_harness_reports_a_missing_resource_type(fhirjs: FhirJs) -> None:
    errors = fhirjs.validate({"id": "no-type"})
    assert [e["severity"] for e in errors] == ["fatal"]


def test_harness_keeps_working_after_a_bad_resource(fhirjs: FhirJs) -> None:
    assert fhirjs.validate({"resourceType": "NotAType"}) != []
    assert fhirjs.validate({"resourceType": "Patient", "gender": "female"}) == []
