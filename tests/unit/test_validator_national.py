"""UK Core and BaRS profiles checked by the same engine as ours: each rule only they impose."""

from __future__ import annotations

import copy
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import orjson
import pytest

from adapter.conformance import validate
from adapter.conformance.national import national_package, national_sources
from adapter.conformance.package import package
from adapter.conformance.profiles import Profile, Profiles, profiles

UKCORE = "https://fhir.hl7.org.uk/StructureDefinition/"
BARS = "https://fhir.nhs.uk/StructureDefinition/"
LD = "https://ld-adapter.github.io/fhir/StructureDefinition/"
NHS_NUMBER = "https://fhir.nhs.uk/Id/nhs-number"
VERIFICATION = UKCORE + "Extension-UKCore-NHSNumberVerificationStatus"
VERIFICATION_ENGLAND = (
    "https://fhir.hl7.org.uk/CodeSystem/UKCore-NHSNumberVerificationStatusEngland"
)
LEGAL_STATUS = UKCORE + "Extension-UKCore-LegalStatus"
REFERENCE = Path(__file__).resolve().parents[2].parent / "shared" / "reference" / "ukcore"


def _found(resource: dict, profile: str) -> list[tuple[str, str, str]]:
    """(severity, message id, first expression) of every issue beyond information."""
    return [
        (i.severity, str(i.message_id), i.expression[0] if i.expression else "")
        for i in validate(resource, profile)
        if i.severity != "information"
    ]


def _encounter(*sub_extensions: dict) -> dict:
    return {
        "resourceType": "Encounter",
        "status": "finished",
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "EMER"},
        "extension": [{"url": LEGAL_STATUS, "extension": list(sub_extensions)}],
    }


CLASSIFICATION = {
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
CONTEXT = {
    "url": "legalStatusContext",
    "valueCodeableConcept": {
        "coding": [
            {
                "system": "https://fhir.hl7.org.uk/CodeSystem/UKCore-LegalStatusContext",
                "code": "admission",
            }
        ]
    },
}


def _patient(*identifiers: dict, **more: Any) -> dict:
    return {
        "resourceType": "Patient",
        **({"identifier": list(identifiers)} if identifiers else {}),
        **more,
    }


def _nhs_number(value: str = "9000000009", status: str = "01") -> dict:
    coding = {"system": VERIFICATION_ENGLAND, "code": status}
    return {
        "system": NHS_NUMBER,
        "value": value,
        "extension": [{"url": VERIFICATION, "valueCodeableConcept": {"coding": [coding]}}],
    }


def test_legal_status_without_its_context_breaks_uk_core_encounter() -> None:
    found = _found(_encounter(CLASSIFICATION), UKCORE + "UKCore-Encounter")
    assert ("error", "LD-PROFILE-CARDINALITY-MIN", "Encounter.extension[0].extension") in found
    assert ("error", "LD-PROFILE-EXTENSION-MISSING", "Encounter.extension[0].extension") in found


def test_legal_status_with_context_and_classification_meets_uk_core_encounter() -> None:
    assert _found(_encounter(CONTEXT, CLASSIFICATION), UKCORE + "UKCore-Encounter") == []


def test_our_contact_profile_is_also_checked_against_the_uk_core_encounter_it_derives_from() -> (
    None
):
    encounter = _encounter(CLASSIFICATION)
    uk_core = {e for e in _found(encounter, LD + "ld-contact") if e[0] == "error"}
    assert ("error", "LD-PROFILE-EXTENSION-MISSING", "Encounter.extension[0].extension") in uk_core


def test_a_wrong_legal_status_context_code_is_flagged_against_its_extensible_value_set() -> None:
    wrong = copy.deepcopy(CONTEXT)
    wrong["valueCodeableConcept"]["coding"][0]["code"] = "transfer"
    found = _found(_encounter(wrong, CLASSIFICATION), UKCORE + "UKCore-Encounter")
    at = "Encounter.extension[0].extension[0].valueCodeableConcept"
    assert found == [("warning", "LD-PROFILE-BINDING-EXTENSIBLE", at)]


def test_uk_core_patient_allows_one_nhs_number_slice() -> None:
    patient = _patient(_nhs_number(), _nhs_number("9000000017"))
    found = _found(patient, UKCORE + "UKCore-Patient")
    assert found == [("error", "LD-PROFILE-SLICE-MAX", "Patient.identifier")]


def test_uk_core_nhs_number_slice_needs_a_value() -> None:
    identifier = _nhs_number()
    del identifier["value"]
    found = _found(_patient(identifier), UKCORE + "UKCore-Patient")
    assert ("error", "LD-PROFILE-CARDINALITY-MIN", "Patient.identifier[0].value") in found


def test_nhs_number_verification_code_outside_its_required_value_set_is_an_error() -> None:
    found = _found(_patient(_nhs_number(status="99")), UKCORE + "UKCore-Patient")
    at = "Patient.identifier[0].extension[0].valueCodeableConcept"
    assert found == [("error", "LD-PROFILE-BINDING-REQUIRED", at)]


def test_a_code_system_no_package_holds_is_a_warning_not_an_error_against_uk_core() -> None:
    """Published BaRS examples use UK Core STU1's verification code system, gone in 2.0.0."""
    identifier = _nhs_number()
    coding = identifier["extension"][0]["valueCodeableConcept"]["coding"][0]
    coding["system"] = "https://fhir.hl7.org.uk/CodeSystem/UKCore-NHSNumberVerificationStatus"
    found = _found(_patient(identifier), UKCORE + "UKCore-Patient")
    at = "Patient.identifier[0].extension[0].valueCodeableConcept"
    assert found == [("warning", "LD-PROFILE-BINDING-UNKNOWN-SYSTEM", at)]


def test_a_code_from_a_system_we_do_not_hold_is_information_never_a_guess() -> None:
    birth_sex = {
        "url": UKCORE + "Extension-UKCore-BirthSex",
        "valueCodeableConcept": {
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-AdministrativeGender"}]
        },
    }
    birth_sex["valueCodeableConcept"]["coding"][0]["code"] = "UN"
    issues = validate(_patient(extension=[birth_sex]), UKCORE + "UKCore-Patient")
    assert [(i.severity, i.message_id) for i in issues] == [
        ("information", "LD-PROFILE-BINDING-NOT-CHECKED")
    ]


def test_bars_referral_subject_must_be_a_patient() -> None:
    request = {
        "resourceType": "ServiceRequest",
        "status": "active",
        "intent": "plan",
        "subject": {"reference": "Group/g1"},
    }
    found = _found(request, BARS + "BARSServiceRequest-request-referral")
    at = "ServiceRequest.subject.reference"
    assert ("error", "LD-PROFILE-REFERENCE-TARGET", at) in found
    request["subject"] = {"reference": "Patient/p1"}
    assert not [
        f for f in _found(request, BARS + "BARSServiceRequest-request-referral") if f[2] == at
    ]


def test_uk_core_invariant_is_checked() -> None:
    immunization = {
        "resourceType": "Immunization",
        "status": "not-done",
        "vaccineCode": {"text": "flu"},
        "patient": {"reference": "Patient/p1"},
        "occurrenceDateTime": "2024-01-01",
    }
    found = _found(immunization, UKCORE + "UKCore-Immunization")
    assert ("error", "LD-PROFILE-INVARIANT", "Immunization") in found
    immunization["statusReason"] = {"text": "refused"}
    assert _found(immunization, UKCORE + "UKCore-Immunization") == []


def test_a_claimed_uk_core_profile_in_meta_is_checked() -> None:
    encounter = _encounter(CLASSIFICATION)
    encounter["meta"] = {"profile": [UKCORE + "UKCore-Encounter"]}
    ids = {i.message_id for i in validate(encounter)}
    assert "LD-PROFILE-EXTENSION-MISSING" in ids
    assert "LD-PROFILE-NOT-OURS" not in ids


@pytest.mark.skipif(not REFERENCE.is_dir(), reason="NHS reference examples not here")
@pytest.mark.parametrize("path", sorted(REFERENCE.glob("*.json")), ids=lambda p: p.stem)
def test_uk_core_examples_meet_the_uk_core_profile_of_their_type(path: Path) -> None:
    resource = orjson.loads(path.read_bytes())
    issues = validate(resource, UKCORE + f"UKCore-{resource['resourceType']}")
    assert [i for i in issues if i.severity == "error"] == []


def test_sources_record_the_pinned_commits_and_versions() -> None:
    sources = national_sources()
    assert sources["ukcore"]["commit"].startswith("3d2827e3")
    assert (sources["ukcore"]["package"], sources["ukcore"]["version"]) == (
        "UKCore.R4.STU.02.00.00",
        "2.0.0",
    )
    assert sources["bars"]["commit"].startswith("0cf8fdaa")


def test_every_profile_in_the_national_packages_compiles() -> None:
    compiled = profiles()
    for url in compiled.resource_profile_urls():
        assert compiled.get(url) is not None, url


def test_a_slice_restated_by_a_derived_profile_keeps_its_base_discriminator() -> None:
    """BodyWeight fixes the code of the `loinc` slice that UKCore-Observation-VitalSigns defines."""
    weight = {
        "resourceType": "Observation",
        "status": "final",
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                        "code": "vital-signs",
                    }
                ]
            }
        ],
        "code": {
            "coding": [
                {"system": "http://loinc.org", "code": "29463-7"},
                {"system": "http://snomed.info/sct", "code": "27113001"},
            ]
        },
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": "2024-01-01",
        "valueQuantity": {
            "value": 70,
            "unit": "kilogram",
            "system": "http://unitsofmeasure.org",
            "code": "kg",
        },
    }
    profile = UKCORE + "UKCore-Observation-VitalSigns-BodyWeight"
    assert [f for f in _found(weight, profile) if f[0] == "error"] == []
    weight["code"]["coding"][0]["code"] = "8302-2"  # body height
    found = _found(weight, profile)
    assert ("error", "LD-PROFILE-FIXED", "Observation.code.coding[0].code") in found


def test_threads_asking_at_once_all_get_the_compiled_uk_core_profile() -> None:
    """Compiling is lazy; a server thread must never see a half-compiled or missing profile."""
    fresh = Profiles(package(), national_package)
    barrier = threading.Barrier(8)

    def ask() -> Profile | None:
        barrier.wait()
        return fresh.get(UKCORE + "UKCore-Encounter")

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: ask(), range(8)))
    assert answers[0] is not None
    assert all(a is answers[0] for a in answers)
