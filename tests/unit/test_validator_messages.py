"""A message's definition is what MessageHeader.definition names: ours, BaRS's, or none."""

from __future__ import annotations

import copy
from pathlib import Path

import orjson
import pytest

from adapter.conformance import has_errors, validate

ROOT = Path(__file__).resolve().parents[2]
BARS = ROOT.parent / "shared" / "reference" / "bars"
OUR_MESSAGE = ROOT / "conformance" / "examples" / "Bundle-ld-referral-message-example.json"


def _cancellation() -> dict:
    """The BaRS cancellation example with a Modulus 11-valid NHS number (its own fails)."""
    message = orjson.loads((BARS / "SERVREQ01-Cancellation-Revoked.json").read_bytes())
    for entry in message["entry"]:
        for ident in entry["resource"].get("identifier", []):
            if ident.get("system") == "https://fhir.nhs.uk/Id/nhs-number":
                ident["value"] = "9990012342"
    return message


def _ids(issues: list) -> list[tuple[str, str]]:
    return [(i.severity, i.message_id) for i in issues if i.message_id != "LD-PROFILE-NOT-OURS"]


def test_a_message_without_definition_gets_information_not_errors() -> None:
    found = validate(
        (ROOT / "fixtures" / "validation" / "valid" / "bundle-message.json").read_bytes()
    )
    assert _ids(found) == [("information", "LD-MSG-NO-DEFINITION")]


def test_our_event_without_definition_is_not_checked_as_our_referral() -> None:
    message = orjson.loads(OUR_MESSAGE.read_bytes())
    del message["entry"][0]["resource"]["definition"]
    for entry in message["entry"]:  # a partner's message: our event, none of our profiles
        entry["resource"].pop("meta", None)
    found = validate(message)
    assert not has_errors(found)
    assert ("information", "LD-MSG-NO-DEFINITION") in _ids(found)


def test_our_definition_still_checks_our_profiles_and_counts() -> None:
    message = orjson.loads(OUR_MESSAGE.read_bytes())
    message["entry"] = [e for e in message["entry"] if e["resource"]["resourceType"] != "Patient"]
    assert "LD-MSG-COUNT-MIN" in {i.message_id for i in validate(message)}


bars = pytest.mark.skipif(not BARS.is_dir(), reason="NHS reference examples not here")


@bars
def test_bars_cancellation_is_checked_against_the_bars_definition_with_no_errors() -> None:
    found = validate(_cancellation())
    assert not has_errors(found)
    assert ("information", "LD-MSG-DEFINITION-PARTNER") in _ids(found)


@bars
def test_the_published_bars_cancellation_has_one_error_its_nhs_number() -> None:
    found = validate((BARS / "SERVREQ01-Cancellation-Revoked.json").read_bytes())
    errors = [(i.message_id, i.expression[0]) for i in found if i.severity == "error"]
    assert errors == [("LD-NHS-NUMBER-INVALID", "Bundle.entry[2].resource.identifier[0].value")]


@bars
def test_bars_cancellation_with_one_organisation_breaks_the_published_count() -> None:
    message = _cancellation()
    last_org = max(
        i for i, e in enumerate(message["entry"]) if e["resource"]["resourceType"] == "Organization"
    )
    del message["entry"][last_org]
    for entry in message["entry"]:  # nothing may point at the removed entry
        entry["resource"].pop("performer", None)
    counts = [i for i in validate(message) if i.message_id == "LD-MSG-COUNT-MIN"]
    assert [(i.severity, i.expression) for i in counts] == [("error", ("Bundle.entry",))]
    assert "Organization" in counts[0].diagnostics


@bars
def test_a_bars_definition_we_do_not_have_is_information() -> None:
    message = _cancellation()
    header = message["entry"][0]["resource"]
    header["definition"] = "https://fhir.nhs.uk/MessageDefinition/bars-message-something-new"
    found = validate(message)
    assert not has_errors(found)
    assert ("information", "LD-MSG-DEFINITION-NOT-OURS") in _ids(found)


@bars
def test_the_event_must_match_the_bars_definition() -> None:
    changed = copy.deepcopy(_cancellation())
    changed["entry"][0]["resource"]["eventCoding"]["code"] = "booking-request"
    found = [i.message_id for i in validate(changed) if i.severity == "error"]
    assert found == ["LD-MSG-EVENT-MISMATCH"]
