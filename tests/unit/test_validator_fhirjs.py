"""FHIR.js as an independent judge of the validator's fixtures."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from adapter.conformance import has_errors, validate_resource
from tests.support.fhirjs import FhirJs, open_fhirjs

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "validation"
VALID = sorted((FIXTURES / "valid").glob("*.json"))
INVALID = sorted(p for p in (FIXTURES / "invalid").glob("*.json") if ".expected" not in p.name)

# Valid R4 that FHIR.js wrongly rejects, with the reason.
FHIRJS_GAPS = {
    "bundle-transaction-conditional": "FHIR.js rejects conditional references (R4 http.html#trules)"
}

pytestmark = pytest.mark.fhirjs


@pytest.fixture(scope="module")
def fhirjs() -> Iterator[FhirJs]:
    with open_fhirjs() as running:
        yield running


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.stem)
def test_fhirjs_accepts_every_valid_fixture(fhirjs: FhirJs, path: Path) -> None:
    errors = fhirjs.validate(orjson.loads(path.read_bytes()))
    assert bool(errors) is (path.stem in FHIRJS_GAPS)


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.stem)
def test_we_reject_whatever_fhirjs_rejects(fhirjs: FhirJs, path: Path) -> None:
    try:
        payload = orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError:
        return  # FHIR.js never sees text that is not JSON
    if isinstance(payload, dict) and fhirjs.validate(payload):
        assert has_errors(validate_resource(payload))
