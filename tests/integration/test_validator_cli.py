"""`ld-adapter validate --profile/--min-severity` and `ld-adapter --version`."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from adapter.cli import main

ROOT = Path(__file__).resolve().parents[2]
PATIENT = ROOT / "conformance" / "examples" / "Patient-ld-patient-example.json"
NO_DEFINITION = ROOT / "fixtures" / "validation" / "valid" / "bundle-message.json"


def test_an_unknown_profile_is_a_usage_error_naming_the_known_ones() -> None:
    result = CliRunner().invoke(
        main, ["validate", "--profile", "https://example.org/nope", str(PATIENT)]
    )
    assert result.exit_code == 2
    assert "https://example.org/nope is not a profile of this adapter" in result.output
    assert "StructureDefinition/ld-patient" in result.output


def test_a_known_profile_is_checked() -> None:
    profile = "https://ld-adapter.github.io/fhir/StructureDefinition/ld-patient"
    result = CliRunner().invoke(main, ["validate", "--profile", profile, str(PATIENT)])
    assert result.exit_code == 0, result.output


def test_min_severity_warning_hides_information_lines() -> None:
    shown = CliRunner().invoke(main, ["validate", str(NO_DEFINITION)])
    hidden = CliRunner().invoke(main, ["validate", "--min-severity", "warning", str(NO_DEFINITION)])
    assert shown.exit_code == hidden.exit_code == 0
    assert " information " in shown.output
    assert hidden.output.strip().splitlines() == ["1 of 1 file(s) valid"]


def test_version() -> None:
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0
    assert result.output.startswith("ld-adapter, version ")


LEGAL_STATUS = "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-LegalStatus"
CLASSIFICATION_ONLY = {
    "resourceType": "Encounter",
    "status": "finished",
    "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "EMER"},
    "extension": [
        {
            "url": LEGAL_STATUS,
            "extension": [
                {
                    "url": "legalStatusClassification",
                    "valueCodeableConcept": {
                        "coding": [
                            {
                                "system": "https://fhir.hl7.org.uk/CodeSystem/UKCore-LegalStatusClassificationEngland",
                                "code": "20",
                            }
                        ]
                    },
                }
            ],
        }
    ],
}


def test_a_uk_core_extension_is_checked_by_its_definition_with_or_without_a_profile(
    tmp_path: Path,
) -> None:
    """The R4 base spec allows LegalStatus without its context part; its definition does not."""
    encounter = tmp_path / "encounter.json"
    encounter.write_text(json.dumps(CLASSIFICATION_ONLY))
    plain = CliRunner().invoke(main, ["validate", str(encounter)])
    profile = "https://fhir.hl7.org.uk/StructureDefinition/UKCore-Encounter"
    result = CliRunner().invoke(main, ["validate", "--profile", profile, str(encounter)])
    for run in (plain, result):
        assert run.exit_code == 1, run.output
        assert "Encounter.extension[0].extension" in run.output
    # Reported once each, whether the extension's definition or the profile found it.
    assert plain.output.count("legalStatusContext") == result.output.count("legalStatusContext")
    assert "legalStatusContext" in result.output


def test_a_bars_profile_is_accepted_by_validate() -> None:
    profile = "https://fhir.nhs.uk/StructureDefinition/BARSServiceRequest-request-referral"
    result = CliRunner().invoke(main, ["validate", "--profile", profile, str(PATIENT)])
    assert result.exit_code == 1  # a Patient is not a ServiceRequest: the profile was found
    assert "BARSServiceRequestRequestReferral constrains ServiceRequest" in result.output


def test_a_bars_profile_finds_a_type_only_it_forbids(tmp_path: Path) -> None:
    """BaRS narrows ServiceRequest.occurrence[x] to Period; R4 and UK Core allow a dateTime."""
    request = tmp_path / "request.json"
    request.write_text(
        json.dumps(
            {
                "resourceType": "ServiceRequest",
                "status": "active",
                "intent": "plan",
                "subject": {"reference": "Patient/p1"},
                "occurrenceDateTime": "2025-01-01T10:00:00+00:00",
            }
        )
    )
    plain = CliRunner().invoke(main, ["validate", str(request)])
    assert plain.exit_code == 0, plain.output
    profile = "https://fhir.nhs.uk/StructureDefinition/BARSServiceRequest-request-referral"
    result = CliRunner().invoke(main, ["validate", "--profile", profile, str(request)])
    assert result.exit_code == 1
    assert "ServiceRequest.occurrenceDateTime: occurrence[x] of " in result.output
    assert "must be Period, not dateTime" in result.output


def test_a_profile_version_not_held_is_named_and_the_held_one_checked() -> None:
    profile = "https://ld-adapter.github.io/fhir/StructureDefinition/ld-patient|0.0.1-nope"
    result = CliRunner().invoke(main, ["validate", "--profile", profile, str(PATIENT)])
    assert result.exit_code == 0, result.output  # valid against the version held; a warning says so
    assert "version 0.0.1-nope of" in result.output
    assert "is not held here: checked against version" in result.output
