"""BaRS messages against the published MessageDefinitions they name: entry counts, row profiles."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from adapter.conformance import validate
from adapter.conformance.package import partner_message_definitions

ROOT = Path(__file__).resolve().parents[2]
BARS = ROOT.parent / "shared" / "reference" / "bars"
NATIONAL_BARS = ROOT / "conformance" / "national" / "bars"
# The reference messages whose MessageHeader.definition names a published BaRS MessageDefinition.
# As the published BaRS definition spells it (under fhir.hl7.org.uk, not fhir.nhs.uk).
INCIDENT = "https://fhir.hl7.org.uk/StructureDefinition/BARSLocation-incident-location"
NAMED = (
    "REFREQ07-Referral-GP-to-OC.json",
    "SERVREQ01-Cancellation-Revoked.json",
    "ValidationRequest-POST.json",
    "ValidationResponse-POST.json",
)

pytestmark = pytest.mark.skipif(not BARS.is_dir(), reason="NHS reference examples not here")


def _message(name: str) -> dict:
    return orjson.loads((BARS / name).read_bytes())


def _counts(message: dict) -> list[tuple[str, str]]:
    """(message id, diagnostics) of every entry-count issue."""
    return [
        (i.message_id, i.diagnostics)
        for i in validate(message)
        if i.message_id in ("LD-MSG-COUNT-MIN", "LD-MSG-COUNT-MAX")
    ]


def _without(message: dict, resource_type: str) -> dict:
    message["entry"] = [
        e for e in message["entry"] if e["resource"]["resourceType"] != resource_type
    ]
    return message


def test_every_published_bars_message_definition_is_loaded_by_its_url() -> None:
    published = {
        orjson.loads(p.read_bytes())["url"] for p in NATIONAL_BARS.glob("MessageDefinition-*.json")
    }
    assert set(partner_message_definitions()) == published
    assert "https://fhir.nhs.uk/MessageDefinition/bars-message-servicerequest-request-referral" in (
        published
    )


@pytest.mark.parametrize("name", NAMED)
def test_reference_message_is_checked_against_its_definition_and_fits_its_counts(
    name: str,
) -> None:
    found = validate(_message(name))
    partner = [i for i in found if i.message_id == "LD-MSG-DEFINITION-PARTNER"]
    assert [(i.severity, i.expression) for i in partner] == [
        ("information", ("Bundle.entry[0].resource.definition",))
    ]
    assert _counts(_message(name)) == []


def test_a_referral_without_its_care_plan_breaks_the_published_1_to_1() -> None:
    message = _without(_message("REFREQ07-Referral-GP-to-OC.json"), "CarePlan")
    ((message_id, why),) = _counts(message)
    assert message_id == "LD-MSG-COUNT-MIN"
    assert "at least 1 CarePlan" in why and "Request Referral" in why


def test_a_referral_with_two_patients_breaks_the_published_1_to_1() -> None:
    message = _message("REFREQ07-Referral-GP-to-OC.json")
    patient = next(e for e in message["entry"] if e["resource"]["resourceType"] == "Patient")
    twin = orjson.loads(orjson.dumps(patient))
    twin["fullUrl"] = "urn:uuid:3f9b4c6e-0d2a-4b8e-9f1c-7a5d2e8b6c40"
    twin["resource"]["id"] = "3f9b4c6e-0d2a-4b8e-9f1c-7a5d2e8b6c40"
    message["entry"].append(twin)
    ((message_id, why),) = _counts(message)
    assert message_id == "LD-MSG-COUNT-MAX"
    assert "at most 1 Patient" in why and "found 2" in why


def test_a_full_validation_response_allows_two_or_three_encounters_not_four() -> None:
    message = _message("ValidationResponse-POST.json")
    encounters = [e for e in message["entry"] if e["resource"]["resourceType"] == "Encounter"]
    assert len(encounters) == 2 and _counts(message) == []
    for n in range(2):
        extra = orjson.loads(orjson.dumps(encounters[0]))
        extra["fullUrl"] = f"urn:uuid:8a1c2d3e-4f50-4a6b-9c7d-8e9f0a1b2c{n:02d}"
        extra["resource"]["id"] = f"8a1c2d3e-4f50-4a6b-9c7d-8e9f0a1b2c{n:02d}"
        message["entry"].append(extra)
        counted = _counts(message)
        if n == 0:
            assert counted == []  # three: the published max
    ((message_id, why),) = counted
    assert message_id == "LD-MSG-COUNT-MAX"
    assert "at most 3 Encounter" in why and "found 4" in why


def test_a_validation_request_needs_its_one_location() -> None:
    message = _without(_message("ValidationRequest-POST.json"), "Location")
    for entry in message["entry"]:  # nothing may point at the removed Location
        entry["resource"].pop("location", None)
    ((message_id, why),) = _counts(message)
    assert message_id == "LD-MSG-COUNT-MIN"
    assert "at least 1 Location" in why


def _with_locations(message: dict, profile: str, how_many: int) -> dict:
    for n in range(how_many):
        uuid = f"5b6c7d8e-9f01-4a23-8b45-6c7d8e9f0a{n:02d}"
        location = {"resourceType": "Location", "id": uuid, "meta": {"profile": [profile]}}
        message["entry"].append({"fullUrl": f"urn:uuid:{uuid}", "resource": location})
    return message


def test_a_type_with_several_rows_keeps_each_rows_max_for_the_entries_claiming_its_profile() -> (
    None
):
    # Request Referral: Location as BARSLocation-incident-location 0..1, and as UKCore-Location 0..*
    message = _with_locations(_message("REFREQ07-Referral-GP-to-OC.json"), INCIDENT, 2)
    ((message_id, why),) = _counts(message)
    assert message_id == "LD-MSG-COUNT-MAX"
    assert "at most 1 Location (BARSLocation-incident-location)" in why and "found 2" in why


def test_entries_claiming_the_open_row_are_not_held_to_the_other_rows_max() -> None:
    uk_core = "https://fhir.hl7.org.uk/StructureDefinition/UKCore-Location"
    message = _with_locations(_message("REFREQ07-Referral-GP-to-OC.json"), uk_core, 3)
    assert _counts(_with_locations(message, INCIDENT, 1)) == []


def _patient_without_profile_or_nhs_number_value() -> dict:
    message = _message("REFREQ07-Referral-GP-to-OC.json")
    patient = next(e for e in message["entry"] if e["resource"]["resourceType"] == "Patient")
    del patient["resource"]["meta"]  # claims nothing: the definition's row says UKCore-Patient
    del patient["resource"]["identifier"][0]["value"]  # UKCore-Patient: nhsNumber.value 1..1
    return message


def test_an_entry_claiming_no_profile_is_checked_against_its_rows_profile() -> None:
    found = validate(_patient_without_profile_or_nhs_number_value())
    errors = [(i.message_id, i.expression[0]) for i in found if i.severity == "error"]
    assert any(where.startswith("Bundle.entry[8].resource.identifier[0]") for _, where in errors)


def test_an_entry_of_a_type_with_several_rows_gets_no_profile_guessed() -> None:
    message = _with_locations(_message("REFREQ07-Referral-GP-to-OC.json"), INCIDENT, 1)
    del message["entry"][-1]["resource"][
        "meta"
    ]  # BARSLocation-incident-location or UKCore-Location?
    found = validate(message)
    assert not any(
        i.severity == "error"
        and i.expression[0].startswith(f"Bundle.entry[{len(message['entry']) - 1}]")
        for i in found
    )
