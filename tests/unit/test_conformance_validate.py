"""adapter.conformance.validate: requested profiles, questionnaires and odd input."""

from __future__ import annotations

import copy
from pathlib import Path

import orjson
import pytest

from adapter.conformance import has_errors, validate, validate_resource

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "conformance" / "examples"
SD = "https://ld-adapter.github.io/fhir/StructureDefinition/"


def _example(name: str) -> dict:
    return orjson.loads((EXAMPLES / f"{name}.json").read_bytes())


def _ids(issues: list) -> list[tuple[str | None, str]]:
    return [(i.message_id, i.expression[0] if i.expression else "") for i in issues]


def test_requested_profile_is_checked_even_when_not_claimed() -> None:
    patient = _example("Patient-ld-patient-example")
    del patient["meta"]
    del patient["name"], patient["birthDate"]
    assert validate(patient) == []
    assert _ids(validate(patient, SD + "ld-patient")) == [("LD-PROFILE-INVARIANT", "Patient")]


def test_requested_profile_of_another_type_is_an_error() -> None:
    issues = validate(_example("Patient-ld-patient-example"), SD + "ld-referral")
    assert _ids(issues) == [("LD-PROFILE-WRONG-TYPE", "Patient")]
    assert has_errors(issues)


def test_unknown_profile_is_information_not_an_error() -> None:
    issues = validate(
        _example("Patient-ld-patient-example"),
        "https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient-NotPublished",
    )
    assert [(i.severity, i.message_id) for i in issues] == [("information", "LD-PROFILE-NOT-OURS")]


def test_our_patient_example_meets_the_uk_core_patient_profile() -> None:
    issues = validate(
        _example("Patient-ld-patient-example"),
        "https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient",
    )
    assert issues == []


def test_versioned_profile_claim_is_ours() -> None:
    patient = _example("Patient-ld-patient-example")
    patient["meta"]["profile"] = [SD + "ld-patient|0.1.0"]
    patient["identifier"][0]["value"] = "9990012343"
    assert _ids(validate(patient)) == [("LD-PROFILE-NHS-NUMBER", "Patient.identifier[0].value")]


def test_nhs_number_is_never_echoed() -> None:
    patient = _example("Patient-ld-patient-example")
    patient["identifier"][0]["value"] = "9990012343"
    assert all("9990012343" not in i.diagnostics for i in validate(patient))


def test_questionnaire_response_to_our_questionnaire_is_checked_against_it() -> None:
    response = _example("QuestionnaireResponse-ld-screening-response-example")
    broken = copy.deepcopy(response)
    broken["item"][0]["linkId"] = "no-such-item"
    assert validate(response) == []
    assert any(i.message_id == "LD-QR-UNKNOWN-LINKID" for i in validate(broken))


def test_questionnaire_response_in_a_message_is_checked_too() -> None:
    bundle = _example("Bundle-ld-referral-message-example")
    entry = next(
        e for e in bundle["entry"] if e["resource"]["resourceType"] == "QuestionnaireResponse"
    )
    entry["resource"]["item"][0]["linkId"] = "no-such-item"
    found = [i for i in validate(bundle) if i.message_id == "LD-QR-UNKNOWN-LINKID"]
    assert found and found[0].expression[0].startswith("Bundle.entry[5].resource.item[0]")


def test_questionnaire_response_to_someone_elses_questionnaire_is_base_checked_only() -> None:
    path = ROOT.parent / "shared" / "reference" / "ukcore"
    if not path.is_dir():
        pytest.skip("NHS reference examples not here")
    payload = (path / "UKCore-QuestionnaireResponse-FitnessForWork-Example.json").read_bytes()
    extra = [i for i in validate(payload) if i not in validate_resource(payload)]
    assert [(i.severity, i.message_id) for i in extra] == [
        ("warning", "LD-QR-QUESTIONNAIRE-NOT-OURS")  # says its answers were not checked
    ]


@pytest.mark.parametrize("text", ['"x"', b'"Patient"', "123", "true", "null", "[]"])
def test_valid_json_that_is_not_an_object_is_named_so(text: str | bytes) -> None:
    issues = validate(text)
    assert _ids(issues) == [("LD-JSON-NOT-OBJECT", "")]
    assert issues[0].diagnostics == "a FHIR resource must be a JSON object"
    assert _ids(validate_resource(text)) == [("LD-JSON-NOT-OBJECT", "")]


def test_bad_input_is_an_issue_never_an_exception() -> None:
    assert _ids(validate(b"{not json")) == [("LD-JSON-INVALID", "")]
    assert _ids(validate("[]")) == [("LD-JSON-NOT-OBJECT", "")]
    deep: dict = {"resourceType": "Patient", "extension": []}
    node = deep
    for _ in range(3000):
        child: dict = {"url": "https://example.org/x", "extension": []}
        node["extension"].append(child)
        node = child
    deep["meta"] = {"profile": [SD + "ld-patient"]}
    assert any(i.message_id == "LD-JSON-TOO-DEEP" for i in validate(deep))


def test_profile_tier_survives_wrong_shapes() -> None:
    referral = _example("ServiceRequest-ld-referral-example")
    referral["extension"] = "not a list"
    referral["identifier"] = [None, 3]
    referral["category"] = {"coding": "x"}
    issues = validate(referral)
    assert has_errors(issues)
