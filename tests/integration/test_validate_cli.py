"""`ld-adapter validate`: files and directories in, one line per issue out, exit code 0/1/2."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from click.testing import CliRunner

from adapter.cli import main

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "conformance" / "examples"
INVALID = ROOT / "fixtures" / "conformance" / "invalid"
PATIENT = EXAMPLES / "Patient-ld-patient-example.json"
BAD_NHS = INVALID / "patient-nhs-number-modulus-11.json"


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_valid_directory_exits_zero(runner: CliRunner) -> None:
    result = runner.invoke(main, ["validate", str(EXAMPLES)])
    assert result.exit_code == 0, result.output
    count = len(list(EXAMPLES.glob("*.json")))
    assert result.output.strip().endswith(f"{count} of {count} file(s) valid")


def test_invalid_file_exits_one_with_one_line_per_issue(runner: CliRunner) -> None:
    result = runner.invoke(main, ["validate", str(PATIENT), str(BAD_NHS)])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert lines == [
        f"{BAD_NHS}: error value Patient.identifier[0].value: ld-nhs-1: An NHS number is 10 digits"
        " and must pass the Modulus 11 check digit test",
        "1 of 2 file(s) valid",
    ]


def test_warnings_alone_exit_zero(runner: CliRunner) -> None:
    result = runner.invoke(main, ["validate", str(INVALID / "referral-unknown-extension.json")])
    assert result.exit_code == 0
    assert " warning extension ServiceRequest.extension[2].url: " in result.output


def test_missing_path_is_a_usage_error(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(main, ["validate", str(tmp_path / "nope.json")])
    assert result.exit_code == 2
    assert runner.invoke(main, ["validate"]).exit_code == 2


def test_profile_option_applies_to_every_file(runner: CliRunner, tmp_path: Path) -> None:
    patient = json.loads(PATIENT.read_text())
    del patient["meta"], patient["birthDate"], patient["name"]
    (tmp_path / "p.json").write_text(json.dumps(patient))
    plain = runner.invoke(main, ["validate", str(tmp_path)])
    assert plain.exit_code == 0
    url = "https://ld-adapter.github.io/fhir/StructureDefinition/ld-patient"
    checked = runner.invoke(main, ["validate", "--profile", url, str(tmp_path)])
    assert checked.exit_code == 1
    assert "invariant Patient: ld-pat-1" in checked.output


def test_json_format(runner: CliRunner) -> None:
    result = runner.invoke(main, ["validate", "--format", "json", str(PATIENT), str(BAD_NHS)])
    report = json.loads(result.output)
    assert [(r["file"], r["valid"]) for r in report] == [
        (str(PATIENT), True),
        (str(BAD_NHS), False),
    ]
    assert report[1]["issues"][0]["message_id"] == "LD-PROFILE-NHS-NUMBER"


def test_junit_format(runner: CliRunner) -> None:
    result = runner.invoke(main, ["validate", "--format", "junit", str(PATIENT), str(BAD_NHS)])
    suite = ET.fromstring(result.output.split("?>", 1)[1])
    assert (suite.get("tests"), suite.get("failures")) == ("2", "1")
    failing = [c.get("name") for c in suite.iter("testcase") if c.find("failure") is not None]
    assert failing == [str(BAD_NHS)]


def test_directories_are_searched_recursively_and_bad_json_reported(
    runner: CliRunner, tmp_path: Path
) -> None:
    nested = tmp_path / "a" / "b"
    nested.mkdir(parents=True)
    shutil.copy(PATIENT, nested / "ok.json")
    (tmp_path / "broken.json").write_text("{")
    (tmp_path / "notes.txt").write_text("not FHIR")
    result = runner.invoke(main, ["validate", str(tmp_path)])
    assert result.exit_code == 1
    assert (
        f"{tmp_path / 'broken.json'}: error structure -: the body is not valid JSON"
        in result.output
    )
    assert result.output.strip().endswith("1 of 2 file(s) valid")
