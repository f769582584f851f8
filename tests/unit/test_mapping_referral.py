"""Native referral → FHIR R4: golden bundles, validity, the reverse mapping, real UK Core input.

Golden outputs are fixtures/fhir/referrals/NAME.bundle.json, one per native fixture
fixtures/native/referrals/NAME.json, made with the fixed ids and performers below. After an intended
mapping change, regenerate them:

    LD_ADAPTER_UPDATE_GOLDENS=1 .venv/bin/pytest tests/unit/test_mapping_referral.py

and review the diff before committing.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from pathlib import Path

import pytest
from fhir.resources.R4B import get_fhir_model_class

from adapter.directory import directory_resources, site_service
from adapter.domain import ReferralResourceIds
from adapter.errors import InvalidInput
from adapter.mapping import (
    ReferralResources,
    person_from_patient,
    referral_bundle,
    referral_from_fhir,
    referral_to_fhir,
)
from adapter.native.referral_schema import load_referral
from tests.support.golden import strip_volatile

ROOT = Path(__file__).resolve().parents[2]
NATIVE = sorted((ROOT / "fixtures" / "native" / "referrals").glob("*.json"))
GOLDEN = ROOT / "fixtures" / "fhir" / "referrals"
REFERENCE = Path("/work/shared/reference")
BASE_URL = "http://127.0.0.1:8080/fhir"
FHIR_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")
DATE_TIME_KEYS = {"authoredOn", "dateTime", "start", "end", "recorded"}


def _ids(consents: int) -> ReferralResourceIds:
    return ReferralResourceIds(
        patient="patient-1",
        service_request="service-request-1",
        encounter="encounter-1",
        consents=[f"consent-{n}" for n in range(1, consents + 1)],
        referrer_organization="organization-1",
    )


def _resources(path: Path) -> ReferralResources:
    referral = load_referral(json.loads(path.read_text(encoding="utf-8")))
    service = site_service(directory_resources(), referral.site)
    return referral_to_fhir(
        referral,
        _ids(len(referral.consents)),
        performer=service.performer,
        provider=service.provider,
    )


def shape_problems(value: object, path: str = "") -> list[str]:
    """FHIR JSON rules the R4B models let through: empties, nulls, bad ids, zoneless date-times."""
    problems = []
    if value is None or value in ("", [], {}):
        problems.append(f"{path}: empty or null")
    elif isinstance(value, dict):
        needs_id = "id" in value or value.get("resourceType", "Bundle") != "Bundle"
        if needs_id and not FHIR_ID.fullmatch(str(value.get("id", ""))):
            problems.append(f"{path}.id: not a FHIR id")
        for key, item in value.items():
            zoneless = isinstance(item, str) and not re.search(r"(Z|[+-]\d\d:\d\d)$", item)
            if key in DATE_TIME_KEYS and "T" in str(item) and zoneless:
                problems.append(f"{path}.{key}: date-time without zone")
            problems.extend(shape_problems(item, f"{path}.{key}"))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            problems.extend(shape_problems(item, f"{path}[{index}]"))
    return problems


@pytest.mark.parametrize("path", NATIVE, ids=lambda p: p.stem)
def test_bundle_matches_golden(path: Path) -> None:
    bundle = strip_volatile(referral_bundle(_resources(path), BASE_URL))
    golden = GOLDEN / f"{path.stem}.bundle.json"
    if os.environ.get("LD_ADAPTER_UPDATE_GOLDENS") == "1":
        golden.write_text(json.dumps(bundle, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    assert bundle == json.loads(golden.read_text(encoding="utf-8"))


@pytest.mark.parametrize("path", NATIVE, ids=lambda p: p.stem)
def test_resources_are_valid_fhir(path: Path, fhirjs) -> None:  # type: ignore[no-untyped-def]
    bundle = referral_bundle(_resources(path), BASE_URL)
    assert shape_problems(bundle) == []
    for entry in bundle["entry"]:
        resource = entry["resource"]
        get_fhir_model_class(resource["resourceType"]).model_validate(resource)
        assert fhirjs.validate(resource) == [], resource["resourceType"]
    get_fhir_model_class("Bundle").model_validate(bundle)
    assert fhirjs.validate(bundle) == []


@pytest.mark.parametrize("path", NATIVE, ids=lambda p: p.stem)
def test_fhir_maps_back_to_the_same_referral(path: Path) -> None:
    referral = load_referral(json.loads(path.read_text(encoding="utf-8")))
    resources = referral_to_fhir(referral, _ids(len(referral.consents)))
    assert referral_from_fhir(resources) == referral


def test_references_between_resources_are_relative_and_resolve() -> None:
    resources = _resources(ROOT / "fixtures/native/referrals/adult-custody-telford.json")
    request = resources.service_request
    assert request["subject"] == {"reference": "Patient/patient-1"}
    assert request["encounter"] == {"reference": "Encounter/encounter-1"}
    assert request["locationReference"] == [{"reference": "Location/custody-telford"}]
    assert request["supportingInfo"] == [{"reference": f"Consent/consent-{n}"} for n in (1, 2, 3)]
    assert resources.encounter["basedOn"] == [{"reference": "ServiceRequest/service-request-1"}]
    role = request["contained"][0]
    assert request["requester"] == {"reference": f"#{role['id']}"}
    assert role["organization"] == {"reference": "Organization/organization-1"}


def test_self_referral_is_requested_by_the_patient() -> None:
    resources = _resources(ROOT / "fixtures/native/referrals/self-referral-birmingham-custody.json")
    assert resources.service_request["requester"] == {"reference": "Patient/patient-1"}
    assert resources.referrer_organization is None
    # The contact is the L&D service's, whoever referred: BSMHFT runs Birmingham custody.
    assert resources.encounter["serviceProvider"] == {"reference": "Organization/bsmhft"}


def test_concerns_carry_snomed_where_it_exists() -> None:
    resources = _resources(ROOT / "fixtures/native/referrals/adult-custody-telford.json")
    systems = [[c["system"].rsplit("/", 1)[-1] for c in r["coding"]] for r in
               resources.service_request["reasonCode"]]  # fmt: skip
    assert systems == [
        ["ld-vulnerability", "sct"],
        ["ld-vulnerability", "sct"],
        ["ld-vulnerability"],
    ]


def test_declined_criminal_justice_sharing_is_a_deny_with_its_lawful_basis() -> None:
    resources = _resources(
        ROOT / "fixtures/native/referrals/declines-criminal-justice-sharing-worcester.json"
    )
    consent = resources.consents[2]
    assert consent["provision"]["type"] == "deny"
    assert consent["policyRule"]["coding"][0]["code"] == "safeguarding-child"
    assert resources.consents[0]["provision"]["type"] == "permit"
    assert "policyRule" not in resources.consents[0]


def test_youth_has_the_appropriate_adult_as_participant() -> None:
    resources = _resources(
        ROOT / "fixtures/native/referrals/youth-shrewsbury-appropriate-adult.json"
    )
    encounter = resources.encounter
    adult = encounter["contained"][0]
    assert adult["resourceType"] == "RelatedPerson"
    assert adult["name"] == [{"text": "Carol Evans"}]
    assert encounter["participant"][0]["individual"] == {"reference": f"#{adult['id']}"}


def test_referral_without_referrer_or_consents_makes_no_empty_elements() -> None:
    referral = load_referral(
        {
            "local_id": "MIN-1",
            "received_at": "2025-01-01T00:00:00Z",
            "source": "E1",
            "setting": "crown-court",
            "site": "court-x",
            "person": {
                "local_identifiers": [{"type": "pnc-id", "value": "1"}],
                "birth_date": "2000-01-01",
            },
        }
    )
    ids = ReferralResourceIds("p", "s", "e", [], "o")
    resources = referral_to_fhir(referral, ids)
    assert shape_problems(referral_bundle(resources, BASE_URL)) == []
    assert "requester" not in resources.service_request
    assert referral_from_fhir(resources) == referral


def test_consent_ids_must_match_decisions() -> None:
    referral = load_referral(json.loads(NATIVE[0].read_text()))
    with pytest.raises(ValueError, match="one id per consent"):
        referral_to_fhir(referral, ReferralResourceIds("p", "s", "e", []))


def test_bundle_full_urls() -> None:
    bundle = referral_bundle(_resources(NATIVE[0]), BASE_URL + "/")
    assert bundle["type"] == "collection"
    assert bundle["entry"][0]["fullUrl"] == f"{BASE_URL}/Patient/patient-1"


def test_person_from_uk_core_patient_example() -> None:
    patient = json.loads(
        (REFERENCE / "ukcore/UKCore-Patient-RichardSmith-Example.json").read_text()
    )
    person = person_from_patient(patient)
    assert person.nhs_number == "9912003888"
    assert (person.family_name, person.given_names) == ("SMITH", ("Richard",))
    assert (person.gender, str(person.birth_date)) == ("male", "1970-09-11")
    assert person.ethnic_category == "G"
    assert person.address is not None and person.address.postcode == "LS17 7DF"


def test_person_from_bars_patient_with_older_code_systems() -> None:
    bundle = json.loads((REFERENCE / "bars/ValidationRequest-POST.json").read_text())
    patient = next(
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient"
    )
    person = person_from_patient(patient)
    assert person.nhs_number == "3478526985"  # read as sent; Modulus 11 is checked at the edge
    assert person.ethnic_category == "A"
    assert person.family_name == "Jones" and person.address is not None
    assert person.address.district == "West Yorkshire"
    assert person.registered_gp_ods is None  # a urn:uuid reference carries no ODS code


def test_person_from_patient_rejects_a_malformed_birth_date_without_echoing_it() -> None:
    with pytest.raises(InvalidInput) as caught:
        person_from_patient({"resourceType": "Patient", "birthDate": "11/09/1970"})
    issue = caught.value.issues[0]
    assert issue.expression == ("Patient.birthDate",) and "1970" not in issue.diagnostics


def test_snomed_only_reason_codes_are_read_back_as_concerns() -> None:
    resources = _resources(NATIVE[0])
    resources.service_request["reasonCode"] = [
        {"coding": [{"system": "http://snomed.info/sct", "code": "32911000"}]},
        {"coding": [{"system": "http://snomed.info/sct", "code": "1234"}]},
    ]
    assert referral_from_fhir(resources).concerns == ("homelessness",)


def _paths(value: object, path: tuple = ()) -> list[tuple]:
    found = [path] if path else []
    if isinstance(value, dict):
        for key, item in value.items():
            found.extend(_paths(item, (*path, key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.extend(_paths(item, (*path, index)))
    return found


@pytest.mark.parametrize("junk", ["x", 7, True, None, [], {}, ["x"], [{"a": 1}]], ids=repr)
def test_reverse_mapping_of_malformed_resources_raises_only_invalid_input(junk: object) -> None:
    """Any element swapped for a wrong-shaped value: a Referral or InvalidInput, never a crash."""
    fixture = ROOT / "fixtures/native/referrals/youth-shrewsbury-appropriate-adult.json"
    original = _resources(fixture).all()
    for index, resource in enumerate(original):
        for path in _paths(resource):
            if path == ("resourceType",):
                continue
            resources = json.loads(json.dumps(original))
            parent = resources[index]
            for step in path[:-1]:
                parent = parent[step]
            parent[path[-1]] = junk
            patient, request, encounter, consent, organization = resources
            with contextlib.suppress(InvalidInput):
                referral_from_fhir(
                    ReferralResources(patient, request, encounter, [consent], organization)
                )
