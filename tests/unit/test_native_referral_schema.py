"""The native referral schema: valid fixtures load; each invalid fixture reports exactly its issues.

Invalid payloads live in fixtures/native/referrals-invalid/NAME.json, each with NAME.expected.json
listing the field paths (`expression`) the schema must report; "" stands for an issue on the whole
payload. Add a pair of files to add a case.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

from adapter.errors import InvalidInput
from adapter.native.referral_schema import ReferralSchema, dump_referral, load_referral

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "native"
VALID = sorted((FIXTURES / "referrals").glob("*.json"))
INVALID = sorted(
    p
    for p in (FIXTURES / "referrals-invalid").glob("*.json")
    if not p.name.endswith(".expected.json")
)


def _payload(path: Path) -> object:
    return json.loads(path.read_text(encoding="utf-8"))


def _issues(payload: object) -> list:
    with pytest.raises(InvalidInput) as caught:
        load_referral(payload)
    return caught.value.issues


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.stem)
def test_valid_fixture_loads_and_dumps_back_to_the_same_referral(path: Path) -> None:
    referral = load_referral(_payload(path))
    assert load_referral(dump_referral(referral)) == referral


def test_there_are_enough_fixtures() -> None:
    assert len(VALID) >= 5 and len(INVALID) >= 10


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.stem)
def test_invalid_fixture_reports_exactly_the_expected_field_paths(path: Path) -> None:
    expected = json.loads(path.with_name(f"{path.stem}.expected.json").read_text())["expressions"]
    issues = _issues(_payload(path))
    assert sorted(i.expression[0] if i.expression else "" for i in issues) == expected
    assert all(i.severity == "error" and i.diagnostics for i in issues)


def test_diagnostics_never_echo_submitted_values() -> None:
    payload = _payload(FIXTURES / "referrals" / "adult-custody-telford.json")
    assert isinstance(payload, dict)
    payload["person"]["nhs_number"] = "9990012343"
    payload["person"]["gender"] = "Hartley-secret"
    payload["received_at"] = "2025-03-14T09:42:00"
    payload["referrer"]["phone"] = "call me maybe"
    text = " ".join(i.diagnostics for i in _issues(payload))
    for sent in ("9990012343", "Hartley-secret", "2025-03-14T09:42:00", "call me maybe"):
        assert sent not in text


def test_missing_field_is_reported_as_required() -> None:
    issues = _issues({"local_id": "X"})
    assert {i.code for i in issues if i.expression == ("source",)} == {"required"}


def test_nhs_number_with_spaces_is_accepted_and_normalised() -> None:
    payload = _payload(FIXTURES / "referrals" / "adult-custody-telford.json")
    assert isinstance(payload, dict)
    payload["person"]["nhs_number"] = "999 001 2342"
    assert load_referral(payload).person.nhs_number == "9990012342"


def test_youth_block_allowed_until_the_eighteenth_birthday() -> None:
    payload = _payload(FIXTURES / "referrals" / "youth-shrewsbury-appropriate-adult.json")
    assert isinstance(payload, dict)
    payload["received_at"] = "2027-11-22T23:59:00+00:00"  # the day before turning 18
    assert load_referral(payload).youth is not None
    payload["received_at"] = "2027-11-23T00:00:00+00:00"
    assert [i.expression for i in _issues(payload)] == [("youth",)]


def test_a_decision_only_the_adapter_records_is_refused_as_input() -> None:
    payload = _payload(FIXTURES / "referrals" / "court-cannock-magistrates.json")
    assert isinstance(payload, dict)
    payload["consents"][0]["decision"] = "lawful-basis"
    (issue,) = _issues(payload)
    assert issue.expression == ("consents[0].decision",)
    assert "lawful-basis" not in issue.diagnostics  # not offered as a choice either


def test_defaults_for_urgency_and_status() -> None:
    payload = _payload(FIXTURES / "referrals" / "court-cannock-magistrates.json")
    referral = load_referral(payload)
    assert (referral.urgency, referral.status) == ("routine", "received")


def test_openapi_document_describes_the_native_fields() -> None:
    spec = APISpec("t", "1", "3.0.3", plugins=[MarshmallowPlugin()])
    spec.components.schema("Referral", schema=ReferralSchema)
    schemas = spec.to_dict()["components"]["schemas"]
    referral = schemas["Referral"]
    assert {"local_id", "received_at", "source", "setting", "site", "person"} <= set(
        referral["required"]
    )
    assert referral["properties"]["received_at"]["description"]
    person = next(s for name, s in schemas.items() if name.startswith("Person"))
    assert person["properties"]["nhs_number"]["description"]


def _paths(value: object, path: tuple = ()) -> list[tuple]:
    found = [path] if path else []
    if isinstance(value, dict):
        for key, item in value.items():
            found.extend(_paths(item, (*path, key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.extend(_paths(item, (*path, index)))
    return found


@pytest.mark.parametrize(
    "junk", ["", " ", "x", 7, 1.5, True, None, [], {}, ["x"], [{}], {"a": [1]}], ids=repr
)
def test_any_field_of_the_wrong_shape_is_invalid_input_never_a_crash(junk: object) -> None:
    original = _payload(FIXTURES / "referrals" / "youth-shrewsbury-appropriate-adult.json")
    for path in _paths(original):
        payload = json.loads(json.dumps(original))
        parent = payload
        for step in path[:-1]:
            parent = parent[step]
        parent[path[-1]] = junk
        try:
            load_referral(payload)
        except InvalidInput as error:
            assert all(i.expression and i.diagnostics for i in error.issues)
