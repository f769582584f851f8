"""`ld-adapter validate --profile/--min-severity` and `ld-adapter --version`."""

from __future__ import annotations

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
