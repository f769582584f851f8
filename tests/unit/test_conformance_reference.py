"""The full validator over real NHS examples: no false errors, and the known flaws reported."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapter.conformance import validate, validate_resource

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT.parent / "shared" / "reference"
EXAMPLES = sorted(
    p.relative_to(REFERENCE).as_posix()
    for p in [*REFERENCE.glob("ukcore/*.json"), *REFERENCE.glob("bars/*.json")]
)
BAD_NHS_NUMBER = [
    "bars/REFREQ07-Referral-GP-to-OC.json",
    "bars/Referral-999-to-CAS-2021.json",
    "bars/SERVREQ01-Cancellation-Revoked.json",
    "bars/ValidationRequest-POST.json",
    "bars/ValidationResponse-POST.json",
]

pytestmark = pytest.mark.skipif(not REFERENCE.is_dir(), reason="NHS reference examples not here")


@pytest.mark.parametrize("name", EXAMPLES)
def test_profile_and_message_tiers_add_no_errors_to_nhs_examples(name: str) -> None:
    """Other than their NHS numbers failing Modulus 11 (a real flaw, an error in any resource)."""
    payload = (REFERENCE / name).read_bytes()
    base_errors = [i for i in validate_resource(payload) if i.severity == "error"]
    found = [i for i in validate(payload) if i.severity == "error"]
    assert [i for i in found if i.message_id != "LD-NHS-NUMBER-INVALID"] == base_errors


@pytest.mark.parametrize("name", BAD_NHS_NUMBER)
def test_nhs_number_failing_modulus_11_is_an_error(name: str) -> None:
    found = [
        i
        for i in validate((REFERENCE / name).read_bytes())
        if i.message_id == "LD-NHS-NUMBER-INVALID"
    ]
    assert [i.severity for i in found] == ["error"]
    assert found[0].expression[0].endswith(".identifier[0].value")
    assert "3478526985" not in found[0].diagnostics


def test_retired_message_event_code_system_is_a_warning() -> None:
    found = validate((REFERENCE / "bars" / "Referral-999-to-CAS-2021.json").read_bytes())
    old = [i for i in found if i.message_id == "LD-MSG-EVENT-SYSTEM-OLD"]
    assert [(i.severity, i.expression) for i in old] == [
        ("warning", ("Bundle.entry[0].resource.eventCoding.system",))
    ]


def test_profiles_we_do_not_hold_are_noted_as_checked_against_the_base_spec_only() -> None:
    found = validate((REFERENCE / "bars" / "Referral-999-to-CAS-2021.json").read_bytes())
    noted = [i for i in found if i.message_id == "LD-PROFILE-NOT-OURS"]
    assert {i.severity for i in noted} == {"information"}
    # BARSUKCorePatient was never published in the BaRS IG we hold; UKCore-Patient is held.
    assert "Bundle.entry[3].resource.meta.profile[0]" in {i.expression[0] for i in noted}
    held = validate((REFERENCE / "bars" / "SERVREQ01-Cancellation-Revoked.json").read_bytes())
    assert "Bundle.entry[2].resource.meta.profile[0]" not in {
        i.expression[0] for i in held if i.message_id == "LD-PROFILE-NOT-OURS"
    }


def test_uk_core_patient_with_a_valid_nhs_number_has_no_issues() -> None:
    assert (
        validate((REFERENCE / "ukcore" / "UKCore-Patient-RichardSmith-Example.json").read_bytes())
        == []
    )


def test_bars_message_definition_is_checked_against_its_published_counts() -> None:
    found = validate((REFERENCE / "bars" / "ValidationRequest-POST.json").read_bytes())
    partner = [i for i in found if i.message_id == "LD-MSG-DEFINITION-PARTNER"]
    assert [i.severity for i in partner] == ["information"]
    assert not any(i.message_id.startswith("LD-MSG-COUNT") for i in found if i.message_id)
