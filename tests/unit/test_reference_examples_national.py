"""The NHS examples against the national profiles: no false alarm, and only their real flaws.

UK Core examples are checked against the UK Core profile their name declares (`UKCore-<Type>-…`);
BaRS examples as they claim (meta.profile, MessageHeader.definition). Every error is pinned in
fixtures/validation/reference-examples-national.expected.json with why it is a real flaw, so a new
false alarm (or a lost true one) fails here. Read a new one against the published definition first.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from adapter.conformance import validate
from adapter.errors import Issue

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT.parent / "shared" / "reference"
UK_CORE = "https://fhir.hl7.org.uk/StructureDefinition/"
EXPECTED = json.loads(
    (ROOT / "fixtures" / "validation" / "reference-examples-national.expected.json").read_text()
)["files"]
UK_CORE_EXAMPLES = sorted(p.name for p in REFERENCE.glob("ukcore/*.json"))
BARS_EXAMPLES = sorted(p.name for p in REFERENCE.glob("bars/*.json"))

pytestmark = pytest.mark.skipif(not REFERENCE.is_dir(), reason="NHS reference examples not here")


def _declared(name: str) -> str:
    """UKCore-Patient-RichardSmith-Example.json declares UKCore-Patient."""
    return f"{UK_CORE}UKCore-{name.split('-')[1]}"


def _errors(issues: list[Issue]) -> Counter:
    return Counter(
        (i.severity, i.message_id, i.expression[0] if i.expression else "")
        for i in issues
        if i.severity in ("error", "fatal")
    )


def _expected(key: str) -> Counter:
    return Counter((i["severity"], i["message_id"], i["expression"]) for i in EXPECTED.get(key, []))


@pytest.mark.parametrize("name", UK_CORE_EXAMPLES)
def test_uk_core_example_is_valid_against_its_declared_profile(name: str) -> None:
    payload = json.loads((REFERENCE / "ukcore" / name).read_bytes())
    issues = validate(payload, _declared(name))
    assert [i.message_id for i in issues if i.message_id == "LD-PROFILE-NOT-OURS"] == []
    assert _errors(issues) == _expected(f"ukcore/{name}") == Counter()


@pytest.mark.parametrize("name", BARS_EXAMPLES)
def test_bars_example_reports_exactly_its_real_flaws(name: str) -> None:
    issues = validate((REFERENCE / "bars" / name).read_bytes())
    assert _errors(issues) == _expected(f"bars/{name}")


def test_uk_core_example_breaking_its_profile_is_caught() -> None:
    """Guards the test above against a profile that is looked up but never applied."""
    name = "UKCore-Patient-RichardSmith-Example.json"
    payload = json.loads((REFERENCE / "ukcore" / name).read_bytes())
    nhs = next(
        i for i in payload["identifier"] if i["system"] == "https://fhir.nhs.uk/Id/nhs-number"
    )
    del nhs["value"]  # UKCore-Patient: identifier:nhsNumber.value 1..1
    errors = _errors(validate(payload, _declared(name)))
    assert any(where.startswith("Patient.identifier[") for _, _, where in errors), errors


def test_every_pinned_flaw_names_an_example_that_exists() -> None:
    examples = {f"ukcore/{n}" for n in UK_CORE_EXAMPLES} | {f"bars/{n}" for n in BARS_EXAMPLES}
    assert set(EXPECTED) <= examples
    assert all(i["why"] for rows in EXPECTED.values() for i in rows)
