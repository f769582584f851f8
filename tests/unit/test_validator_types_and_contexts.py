"""Profile rules beyond cardinality and codes: choice types, extension contexts, versions."""

from __future__ import annotations

from pathlib import Path

import orjson

from adapter.conformance import validate
from adapter.conformance.national import NATIONAL_DIR
from adapter.conformance.package import Package
from adapter.conformance.profile_check import ProfileCheck
from adapter.conformance.profiles import Profiles

UKCORE = "https://fhir.hl7.org.uk/StructureDefinition/"
BARS_REFERRAL = "https://fhir.nhs.uk/StructureDefinition/BARSServiceRequest-request-referral"
LD = "https://ld-adapter.github.io/fhir/StructureDefinition/"
PATIENT = UKCORE + "UKCore-Patient"
ETHNIC = UKCORE + "Extension-UKCore-EthnicCategory"
VERIFICATION = UKCORE + "Extension-UKCore-NHSNumberVerificationStatus"
LEGAL_STATUS = UKCORE + "Extension-UKCore-LegalStatus"
ENGLAND = "https://fhir.hl7.org.uk/CodeSystem/"


def _found(resource: dict, profile: str | None) -> list[tuple[str, str, str]]:
    """(severity, message id, first expression) of every issue beyond information."""
    return [
        (i.severity, str(i.message_id), i.expression[0] if i.expression else "")
        for i in validate(resource, profile)
        if i.severity != "information"
    ]


def _concept(system: str, code: str) -> dict:
    return {"coding": [{"system": ENGLAND + system, "code": code}]}


def _patient(**more: object) -> dict:
    return {"resourceType": "Patient", "gender": "female", **more}


def _nhs_number(verification: dict) -> dict:
    extension = {"url": VERIFICATION, **verification}
    return {
        "system": "https://fhir.nhs.uk/Id/nhs-number",
        "value": "9000000009",
        "extension": [extension],
    }


LEGAL_STATUS_EXTENSION = {
    "url": LEGAL_STATUS,
    "extension": [
        {
            "url": "legalStatusContext",
            "valueCodeableConcept": _concept("UKCore-LegalStatusContext", "admission"),
        },
        {
            "url": "legalStatusClassification",
            "valueCodeableConcept": _concept("UKCore-LegalStatusClassificationEngland", "20"),
        },
    ],
}


# Choice types a profile narrows (review finding 5) --------------------------------------------


def test_uk_core_ethnic_category_as_a_string_is_the_wrong_type() -> None:
    good = _patient(
        extension=[
            {"url": ETHNIC, "valueCodeableConcept": _concept("UKCore-EthnicCategoryEngland", "A")}
        ]
    )
    assert _found(good, PATIENT) == []
    bad = _patient(extension=[{"url": ETHNIC, "valueString": "A"}])
    issues = [i for i in validate(bad, PATIENT) if i.severity == "error"]
    assert [(i.message_id, i.expression) for i in issues] == [
        ("LD-PROFILE-TYPE", ("Patient.extension[0].valueString",))
    ]
    assert issues[0].diagnostics == (
        "value[x] of ExtensionUKCoreEthnicCategory must be CodeableConcept, not string"
    )
    # The base spec allows any type, but the extension's own definition does not: it is checked
    # against it with no profile claimed too, as the HL7 validator does (review R2).
    assert [(i.message_id, i.expression) for i in validate(bad) if i.severity == "error"] == [
        ("LD-PROFILE-TYPE", ("Patient.extension[0].valueString",))
    ]


def test_nhs_number_verification_status_must_be_a_codeable_concept_even_with_a_right_code() -> None:
    right = _concept("UKCore-NHSNumberVerificationStatusEngland", "01")
    assert (
        _found(_patient(identifier=[_nhs_number({"valueCodeableConcept": right})]), PATIENT) == []
    )
    at = "Patient.identifier[0].extension[0]"
    as_string = _patient(identifier=[_nhs_number({"valueString": "01"})])
    assert _found(as_string, PATIENT) == [("error", "LD-PROFILE-TYPE", f"{at}.valueString")]
    as_coding = _patient(identifier=[_nhs_number({"valueCoding": right["coding"][0]})])
    assert _found(as_coding, PATIENT) == [("error", "LD-PROFILE-TYPE", f"{at}.valueCoding")]


def test_bars_referral_occurrence_must_be_a_period() -> None:
    """A defect only the BaRS profile forbids: R4 and UK Core allow occurrenceDateTime."""
    request = {
        "resourceType": "ServiceRequest",
        "status": "active",
        "intent": "plan",
        "subject": {"reference": "Patient/p1"},
        "occurrencePeriod": {"start": "2025-01-01T10:00:00+00:00"},
    }
    with_period = _found(request, BARS_REFERRAL)
    del request["occurrencePeriod"]
    request["occurrenceDateTime"] = "2025-01-01T10:00:00+00:00"
    with_date_time = _found(request, BARS_REFERRAL)
    at = "ServiceRequest.occurrenceDateTime"
    assert [f for f in with_date_time if f not in with_period] == [("error", "LD-PROFILE-TYPE", at)]
    assert _found(request, UKCORE + "UKCore-ServiceRequest") == []


def test_our_referral_source_as_a_string_is_reported_as_the_wrong_type_not_a_wrong_code() -> None:
    request = {
        "resourceType": "ServiceRequest",
        "status": "active",
        "intent": "order",
        "subject": {"reference": "Patient/p1"},
        "extension": [{"url": LD + "ld-referral-source", "valueString": "police"}],
    }
    found = _found(request, UKCORE + "UKCore-ServiceRequest")
    assert found == [("error", "LD-PROFILE-TYPE", "ServiceRequest.extension[0].valueString")]


def test_a_key_that_is_no_type_at_all_is_left_to_the_base_tier() -> None:
    bad = _patient(extension=[{"url": ETHNIC, "valueNonsense": "A"}])
    found = _found(bad, PATIENT)
    assert ("error", "LD-PROFILE-TYPE", "Patient.extension[0].valueNonsense") not in found
    assert any(f[1] == "LD-STRUCT-UNKNOWN-ELEMENT" for f in found)


def test_a_type_slice_in_a_differential_constrains_the_json_key_of_that_type(
    tmp_path: Path,
) -> None:
    """`value[x]:valueQuantity` (a rule on one type of a choice) applies to valueQuantity."""
    url = "https://example.org/StructureDefinition/weight"
    sd = {
        "resourceType": "StructureDefinition",
        "id": "weight",
        "url": url,
        "name": "Weight",
        "kind": "resource",
        "type": "Observation",
        "derivation": "constraint",
        "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Observation",
        "differential": {
            "element": [
                {
                    "id": "Observation.value[x]",
                    "path": "Observation.value[x]",
                    "type": [{"code": "Quantity"}],
                },
                {
                    "id": "Observation.value[x]:valueQuantity.unit",
                    "path": "Observation.value[x].unit",
                    "min": 1,
                },
            ]
        },
    }
    (tmp_path / "StructureDefinition-weight.json").write_bytes(orjson.dumps(sd))
    compiled = Profiles(Package(tmp_path))
    profile = compiled.get(url)
    assert profile is not None

    def check(observation: dict) -> list[tuple[str | None, tuple[str, ...]]]:
        issues = ProfileCheck(compiled, profile, observation).run(observation, "Observation")
        return [(i.message_id, i.expression) for i in issues]

    assert (
        check({"resourceType": "Observation", "valueQuantity": {"value": 70, "unit": "kg"}}) == []
    )
    assert check({"resourceType": "Observation", "valueQuantity": {"value": 70}}) == [
        ("LD-PROFILE-CARDINALITY-MIN", ("Observation.valueQuantity.unit",))
    ]
    assert check({"resourceType": "Observation", "valueString": "70 kg"}) == [
        ("LD-PROFILE-TYPE", ("Observation.valueString",))
    ]


# Extension contexts (review finding 7) ----------------------------------------------------------


def test_legal_status_on_a_patient_is_out_of_its_context() -> None:
    patient = _patient(extension=[LEGAL_STATUS_EXTENSION])
    issues = [i for i in validate(patient, PATIENT) if i.severity == "error"]
    assert [(i.message_id, i.expression) for i in issues] == [
        ("LD-PROFILE-EXTENSION-CONTEXT", ("Patient.extension[0]",))
    ]
    assert (
        issues[0].diagnostics
        == "ExtensionUKCoreLegalStatus may be used on Encounter, not on Patient"
    )
    encounter = {
        "resourceType": "Encounter",
        "status": "finished",
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "EMER"},
        "extension": [LEGAL_STATUS_EXTENSION],
    }
    assert _found(encounter, UKCORE + "UKCore-Encounter") == []


def test_an_extension_whose_context_is_an_element_path_belongs_on_that_element() -> None:
    verification = {
        "url": VERIFICATION,
        "valueCodeableConcept": _concept("UKCore-NHSNumberVerificationStatusEngland", "01"),
    }
    on_root = _patient(extension=[verification])
    assert _found(on_root, PATIENT) == [
        ("error", "LD-PROFILE-EXTENSION-CONTEXT", "Patient.extension[0]")
    ]
    on_identifier = _patient(
        identifier=[_nhs_number({"valueCodeableConcept": verification["valueCodeableConcept"]})]
    )
    assert _found(on_identifier, PATIENT) == []


def test_a_data_type_context_allows_the_extension_on_any_element_of_that_type() -> None:
    """CodingSCTDescDisplay may sit on any Coding; OtherContactSystem on ContactPoint.system."""
    display = {"url": UKCORE + "Extension-UKCore-CodingSCTDescDisplay", "valueString": "Married"}
    coding = {"system": "http://snomed.info/sct", "code": "87915002", "extension": [display]}
    on_coding = _patient(maritalStatus={"coding": [coding]})
    assert [f for f in _found(on_coding, PATIENT) if f[1] == "LD-PROFILE-EXTENSION-CONTEXT"] == []
    on_concept = _patient(
        maritalStatus={
            "coding": [{"system": "http://snomed.info/sct", "code": "87915002"}],
            "extension": [display],
        }
    )
    found = _found(on_concept, PATIENT)
    assert ("error", "LD-PROFILE-EXTENSION-CONTEXT", "Patient.maritalStatus.extension[0]") in found
    other = {
        "url": UKCORE + "Extension-UKCore-OtherContactSystem",
        "valueCodeableConcept": _concept("UKCore-OtherContactSystem", "textphone"),
    }
    on_primitive = _patient(
        telecom=[{"system": "other", "value": "x", "_system": {"extension": [other]}}]
    )
    assert _found(on_primitive, PATIENT) == []


def test_a_resource_context_allows_any_resource_but_not_an_element() -> None:
    period = {
        "url": UKCORE + "Extension-UKCore-EffectivePeriod",
        "valuePeriod": {"start": "2024-01-01"},
    }
    assert _found(_patient(extension=[period]), PATIENT) == []
    on_name = _patient(name=[{"family": "Smith", "extension": [period]}])
    assert _found(on_name, PATIENT) == [
        ("error", "LD-PROFILE-EXTENSION-CONTEXT", "Patient.name[0].extension[0]")
    ]


# Profile versions (review finding 13) ----------------------------------------------------------


def test_a_profile_version_not_held_is_said_and_the_held_one_named() -> None:
    held = orjson.loads(
        (NATIONAL_DIR / "ukcore" / "StructureDefinition-UKCore-Patient.json").read_bytes()
    )["version"]
    issues = validate(_patient(), PATIENT + "|9.9.9")
    notes = [i for i in issues if i.message_id == "LD-PROFILE-VERSION-NOT-HELD"]
    assert [(i.severity, i.expression) for i in notes] == [("warning", ("Patient",))]
    assert notes[0].diagnostics == (
        f"version 9.9.9 of UKCorePatient is not held here: checked against version {held} instead"
    )
    claimed = _patient(meta={"profile": [PATIENT + "|9.9.9"]})
    at = "Patient.meta.profile[0]"
    assert ("warning", "LD-PROFILE-VERSION-NOT-HELD", at) in _found(claimed, None)


def test_the_version_held_or_its_major_minor_is_checked_without_a_word() -> None:
    held = orjson.loads(
        (NATIONAL_DIR / "ukcore" / "StructureDefinition-UKCore-Patient.json").read_bytes()
    )["version"]
    major_minor = held.rsplit(".", 1)[0]
    for canonical in (PATIENT, f"{PATIENT}|{held}", f"{PATIENT}|{major_minor}"):
        assert _found(_patient(), canonical) == [], canonical


def test_unknown_extensions_are_found_at_every_depth_of_the_walk() -> None:
    """The walk skips parts without extensions: none of these may be skipped (speed fix)."""
    unknown = [{"url": "https://example.org/fhir/StructureDefinition/x", "valueString": "y"}]
    coding = {"system": "https://example.org/cs", "code": "a", "extension": unknown}
    patient = _patient(
        _gender={"extension": unknown},
        modifierExtension=unknown,
        contact=[{"name": {"family": "Jones", "extension": unknown}}],
        extension=[{"url": ETHNIC, "valueCodeableConcept": {"coding": [coding]}}],
    )
    found = {f[2] for f in _found(patient, PATIENT) if f[1] == "LD-PROFILE-EXTENSION-UNKNOWN"}
    assert found == {
        "Patient._gender.extension[0].url",
        "Patient.modifierExtension[0].url",
        "Patient.contact[0].name.extension[0].url",
        "Patient.extension[0].valueCodeableConcept.coding[0].extension[0].url",
    }
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [{"request": {"method": "POST", "url": "Patient", "extension": unknown}}],
    }
    found = {
        f[2]
        for f in _found(bundle, UKCORE + "UKCore-Bundle")
        if f[1] == "LD-PROFILE-EXTENSION-UNKNOWN"
    }
    assert found == {"Bundle.entry[0].request.extension[0].url"}


# Extensions checked whatever the resource claims (review R2) ----------------------------------

HALF_LEGAL_STATUS = {
    "url": LEGAL_STATUS,
    "extension": [LEGAL_STATUS_EXTENSION["extension"][0]],  # type: ignore[index]
}
NOT_HELD = "https://example.org/fhir/StructureDefinition/not-held-here"


def test_extensions_held_here_are_checked_with_no_profile_claimed() -> None:
    """The review's repro: a Patient claiming nothing is judged as when it claims UK Core."""
    patient = _patient(
        extension=[{"url": ETHNIC, "valueString": "A"}, HALF_LEGAL_STATUS],
        identifier=[_nhs_number({"valueString": "01"})],
    )
    expected = [
        ("error", "LD-PROFILE-TYPE", "Patient.extension[0].valueString"),
        ("error", "LD-PROFILE-CARDINALITY-MIN", "Patient.extension[1].extension"),
        ("error", "LD-PROFILE-EXTENSION-MISSING", "Patient.extension[1].extension"),
        ("error", "LD-PROFILE-EXTENSION-CONTEXT", "Patient.extension[1]"),
        ("error", "LD-PROFILE-TYPE", "Patient.identifier[0].extension[0].valueString"),
    ]
    assert sorted(_found(patient, None)) == sorted(expected)
    claiming = {**patient, "meta": {"profile": [PATIENT]}}
    assert sorted(_found(claiming, None)) == sorted(expected)  # each once, not twice


def test_extensions_are_checked_under_a_profile_not_held_and_in_every_entry() -> None:
    claims_other = _patient(
        meta={"profile": ["https://example.org/fhir/StructureDefinition/their-patient"]},
        extension=[HALF_LEGAL_STATUS],
    )
    assert ("error", "LD-PROFILE-EXTENSION-CONTEXT", "Patient.extension[0]") in _found(
        claims_other, None
    )
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"fullUrl": "urn:uuid:1", "resource": _patient(extension=[HALF_LEGAL_STATUS])}],
    }
    at = "Bundle.entry[0].resource.extension[0]"
    assert ("error", "LD-PROFILE-EXTENSION-CONTEXT", at) in _found(bundle, None)


def test_without_a_profile_a_right_extension_or_one_not_held_is_not_remarked() -> None:
    encounter = {
        "resourceType": "Encounter",
        "status": "finished",
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "EMER"},
        "extension": [LEGAL_STATUS_EXTENSION],
    }
    assert _found(encounter, None) == []
    assert _found(_patient(extension=[{"url": NOT_HELD, "valueString": "x"}]), None) == []
