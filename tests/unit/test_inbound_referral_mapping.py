"""A referral message (ours or BaRS) → a native Referral: every fixture message, BaRS examples."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from adapter.errors import AdapterError, Unprocessable
from adapter.mapping.inbound_referral import (
    Sender,
    inbound_local_id,
    referral_from_message,
    sender_request_key,
    source_for,
)
from adapter.mapping.message_bundle import MessageBundle
from adapter.native.referral_schema import dump_referral, load_referral

ROOT = Path(__file__).resolve().parents[2]
MESSAGES = sorted((ROOT / "fixtures" / "messages").glob("*.message.json"))
BARS = Path("/work/shared/reference/bars")
NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
MPFT = Sender(
    ods_code="RRE", name="Midlands Partnership University NHS Foundation Trust", source="E5"
)


def read(path: Path) -> tuple[MessageBundle, dict]:
    message = MessageBundle(json.loads(path.read_text()))
    header = message.of_type("MessageHeader")[0]
    return message, message.focus(header, "ServiceRequest")


@pytest.mark.parametrize("path", MESSAGES, ids=lambda p: p.name)
def test_every_onward_referral_message_of_ours_becomes_a_valid_native_referral(path: Path) -> None:
    message, request = read(path)
    received = referral_from_message(message, request, MPFT, "custody-birmingham", NOW)
    referral = received.referral
    assert load_referral(dump_referral(referral)) == referral  # passes the native API's checks
    assert (referral.source, referral.setting, referral.site) == (
        "E5",
        "community",
        "custody-birmingham",
    )
    assert referral.local_id == "RRE-onward-1" and referral.received_at == NOW
    assert referral.status == "received" and referral.urgency == request["priority"]
    assert referral.referrer is not None
    assert (referral.referrer.name, referral.referrer.organisation_ods) == ("Alex Morgan", "RRE")
    patient = next(p for p in message.of_type("Patient"))
    assert referral.person.family_name == patient["name"][0]["family"]
    assert "Best reached by phone in the afternoon." in referral.notes
    # Reasons with a project or SNOMED CT code are concerns; each is one the message gave.
    given = {c["code"] for r in request["reasonCode"] for c in r.get("coding", [])}
    assert set(referral.concerns) <= given and bool(referral.concerns) == bool(given)
    assert received.warnings == ()


def test_consents_are_carried_as_decisions() -> None:
    message, request = read(
        ROOT / "fixtures" / "messages" / "criminal-justice-limited.message.json"
    )
    referral = referral_from_message(message, request, MPFT, "custody-birmingham", NOW).referral
    [decision] = referral.consents
    assert (decision.scope, decision.decision, decision.capacity) == (
        "share-criminal-justice",
        "limited",
        "has-capacity",
    )


def test_sharing_on_a_lawful_basis_is_carried_as_a_note_not_as_a_consent() -> None:
    message, request = read(
        ROOT / "fixtures" / "messages" / "safeguarding-lawful-basis.message.json"
    )
    referral = referral_from_message(message, request, MPFT, "custody-birmingham", NOW).referral
    assert referral.consents == ()
    assert "without consent on a lawful basis (Child safeguarding)" in referral.notes[0]


def test_the_bars_gp_referral_becomes_a_referral_with_the_bad_nhs_number_set_aside() -> None:
    message, request = read(BARS / "REFREQ07-Referral-GP-to-OC.json")
    gp = Sender(ods_code="M99001", name="Example Medical Practice", source="A1")
    received = referral_from_message(message, request, gp, "custody-birmingham", NOW)
    referral = received.referral
    assert referral.local_id == "M99001-236bb75d-90ef-461f-b71e-fde7f899802c"
    assert referral.person.nhs_number is None
    assert [w.severity for w in received.warnings] == ["warning"]
    assert "3478526985" not in received.warnings[0].diagnostics
    assert (referral.person.family_name, referral.person.birth_date.isoformat()) == (
        "Jones",
        "1959-05-04",
    )  # type: ignore[union-attr]
    assert referral.referrer is not None and referral.referrer.name == "Marcy BLAKE"
    assert referral.referrer.organisation_name == "Practitioner Org"
    [consent] = referral.consents
    assert (consent.scope, consent.decision, consent.capacity, consent.recorded_by) == (
        "share-health",
        "agreed",
        "not-assessed",
        "Example Medical Practice",
    )
    assert consent.recorded_at == datetime(2021, 11, 26, tzinfo=UTC)


@pytest.mark.parametrize(
    ("new", "cancellation"),
    [
        (
            ROOT / "fixtures" / "messages" / "health-gp.message.json",
            ROOT / "fixtures" / "messages" / "health-gp.cancellation.json",
        ),
        (BARS / "REFREQ07-Referral-GP-to-OC.json", BARS / "SERVREQ01-Cancellation-Revoked.json"),
    ],
    ids=["ours", "bars"],
)
def test_a_cancellation_names_the_request_the_referral_came_from(
    new: Path, cancellation: Path
) -> None:
    assert sender_request_key(*read(new)) == sender_request_key(*read(cancellation))


def test_a_long_sender_key_is_digested_within_the_local_id_limit() -> None:
    local_id = inbound_local_id("RRE", "x" * 200)
    assert len(local_id) <= 64 and local_id.startswith("RRE-")
    assert local_id == inbound_local_id("RRE", "x" * 200) != inbound_local_id("RRE", "y" * 200)


def test_the_source_follows_what_kind_of_sender_it_is() -> None:
    assert source_for(frozenset({"gp"}), "health") == "A1"
    assert source_for(frozenset({"home-area-ld"}), "home-area-ld") == "E5"
    assert source_for(frozenset({"substance-misuse"}), "health") == "M3"


def test_a_referral_without_a_patient_in_the_bundle_is_unprocessable() -> None:
    message, request = read(ROOT / "fixtures" / "messages" / "home-area-ld.message.json")
    request = {**request, "subject": {"reference": "Patient/not-here"}}
    with pytest.raises(Unprocessable):
        referral_from_message(message, request, MPFT, "custody-birmingham", NOW)


@pytest.mark.parametrize("name", ["ValidationRequest-POST.json", "Referral-999-to-CAS-2021.json"])
def test_other_bars_examples_are_converted_or_refused_never_crash(name: str) -> None:
    try:
        message, request = read(BARS / name)
        referral_from_message(message, request, MPFT, "custody-birmingham", NOW)
    except AdapterError as error:
        assert error.status in (400, 422)


def test_an_onward_referral_from_an_l_and_d_adapter_is_from_an_l_and_d_service() -> None:
    # The partner binding may pick any of the trust's services (say its CMHT, source M3); an
    # ld-onward-referral pathway is only ever sent by an L&D service running this adapter.
    message, request = read(ROOT / "fixtures" / "messages" / "health-gp.message.json")
    cmht = Sender(ods_code="RRE", name="MPFT", source="M3")
    referral = referral_from_message(message, request, cmht, "custody-birmingham", NOW).referral
    assert referral.source == "E5"
    message, request = read(BARS / "REFREQ07-Referral-GP-to-OC.json")
    referral = referral_from_message(message, request, cmht, "custody-birmingham", NOW).referral
    assert referral.source == "M3"


def test_malformed_referrer_details_are_left_out_not_refused() -> None:
    bundle = json.loads((BARS / "REFREQ07-Referral-GP-to-OC.json").read_text())
    for entry in bundle["entry"]:
        resource = entry["resource"]
        if resource["resourceType"] == "Practitioner":
            resource["telecom"] = [{"system": "phone", "value": "ring reception, ext. 42"}]
        if resource["resourceType"] == "Organization":
            resource["identifier"] = [
                {"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": "not an ods"}
            ]
    message = MessageBundle(bundle)
    request = message.focus(message.of_type("MessageHeader")[0], "ServiceRequest")
    referral = referral_from_message(message, request, MPFT, "custody-birmingham", NOW).referral
    assert referral.referrer is not None and referral.referrer.name == "Marcy BLAKE"
    assert (referral.referrer.phone, referral.referrer.organisation_ods) == (None, None)
