"""Finding the entry a reference in a received message points at (MessageHeader.focus, subject)."""

from __future__ import annotations

import pytest

from adapter.exchange.inbound_message import resolve

PATIENT = {"resourceType": "Patient", "id": "p1"}
NO_ID = {"resourceType": "Patient"}
BUNDLE = {
    "entry": [
        "not an entry",
        {"fullUrl": "urn:uuid:6f1a", "resource": {"resourceType": "Task", "id": "t1"}},
        {"fullUrl": "https://partner.example/fhir/Patient/p1", "resource": PATIENT},
        {"fullUrl": "https://partner.example/fhir/Patient/p2", "resource": NO_ID},
    ]
}


@pytest.mark.parametrize(
    ("reference", "found"),
    [
        ("urn:uuid:6f1a", {"resourceType": "Task", "id": "t1"}),  # by fullUrl
        ("https://elsewhere.example/fhir/Patient/p1", PATIENT),  # by type and id
        ("Patient/p2", NO_ID),  # relative, against the entry's absolute fullUrl
        ("Patient/p3", None),
        ("", None),
        (None, None),
    ],
)
def test_a_reference_finds_its_entry_however_it_is_written(reference, found) -> None:  # type: ignore[no-untyped-def]
    assert resolve(BUNDLE, reference) == found
