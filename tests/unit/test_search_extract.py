"""Index extraction from resources, driven by the search parameter definitions."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import fhirpathpy
import orjson

from adapter.conformance.fhirpath import compile_expression
from adapter.search import default_registry
from adapter.search.extract import _compiled, extract

# Trimmed from the UK Core examples ServiceRequest-ColonoscopyRequest and Patient-RichardSmith.
SERVICE_REQUEST = {
    "resourceType": "ServiceRequest",
    "id": "UKCore-ServiceRequest-ColonoscopyRequest-Example",
    "status": "active",
    "intent": "order",
    "code": {"coding": [{"system": "http://snomed.info/sct", "code": "73761001"}]},
    "subject": {"reference": "Patient/UKCore-Patient-RichardSmith-Example"},
    "encounter": {"reference": "Encounter/UKCore-Encounter-InpatientEncounter-Example"},
    "authoredOn": "2021-10-13T16:28:00+07:00",
}
PATIENT = {
    "resourceType": "Patient",
    "id": "UKCore-Patient-RichardSmith-Example",
    "identifier": [{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9912003888"}],
    "name": [{"use": "official", "family": "SMITH", "given": ["Richard", "Albert"]}],
    "birthDate": "1970-09-11",
}


def test_a_uk_core_service_request_is_indexed() -> None:
    entries = extract(SERVICE_REQUEST, default_registry())
    assert ("status", None, "active") in entries.tokens
    assert ("patient", "Patient", "UKCore-Patient-RichardSmith-Example") in entries.references
    assert ("subject", "Patient", "UKCore-Patient-RichardSmith-Example") in entries.references
    assert (
        "encounter",
        "Encounter",
        "UKCore-Encounter-InpatientEncounter-Example",
    ) in entries.references
    [(name, low, high)] = entries.dates
    assert (high - low).total_seconds() == 1
    assert name == "authored" and low.isoformat() == "2021-10-13T09:28:00+00:00"


def test_a_uk_core_patient_is_indexed() -> None:
    entries = extract(PATIENT, default_registry())
    assert ("identifier", "https://fhir.nhs.uk/Id/nhs-number", "9912003888") in entries.tokens
    assert ("family", "smith") in entries.strings
    assert [(d[0], d[1].isoformat()) for d in entries.dates] == [
        ("birthdate", "1970-09-11T00:00:00+00:00")
    ]


def test_logical_references_and_malformed_values_do_not_break_indexing() -> None:
    resource = {
        "resourceType": "ServiceRequest",
        "subject": {
            "identifier": {"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9990012342"}
        },
        "authoredOn": "not a date",
        "status": 7,
        "encounter": {"reference": "#contained"},
    }
    entries = extract(resource, default_registry())
    assert (
        "patient:identifier",
        "https://fhir.nhs.uk/Id/nhs-number",
        "9990012342",
    ) in entries.tokens
    assert entries.dates == [] and entries.references == []


def test_values_a_database_cannot_index_are_skipped() -> None:
    resource = {
        "resourceType": "Patient",
        "identifier": [
            {"system": "s", "value": "x" * 5000},
            {"system": "s", "value": "nul\x00"},
            {"system": 42, "value": "odd-system"},
            {"system": "s", "value": "kept"},
        ],
        "name": [{"family": "Long" * 500}, {"family": "nul\x00"}],
    }
    entries = extract(resource, default_registry())
    assert entries.tokens == [("identifier", "s", "kept")]
    assert [len(value) for _, value in entries.strings] == [512]


def _resources(node: object) -> Iterator[dict]:
    if isinstance(node, dict):
        if "resourceType" in node:
            yield node
        for value in node.values():
            yield from _resources(value)
    elif isinstance(node, list):
        for value in node:
            yield from _resources(value)


_ROOT = Path(__file__).resolve().parents[2]
_EXAMPLES = sorted(
    [
        *(_ROOT / "fixtures" / "fhir").rglob("*.json"),
        *(_ROOT / "fixtures" / "conformance").rglob("*.json"),
        *(_ROOT.parent / "shared" / "reference").rglob("*.json"),
    ]
)


def test_every_indexed_search_expression_is_compiled() -> None:
    """Indexing runs on every write: none of the search parameters falls back to fhirpathpy."""
    registry = default_registry()
    for resource_type in registry.resource_types:
        for parameter in registry.indexed(resource_type):
            assert parameter.expression is not None
            compile_expression(parameter.expression)  # raises CompileError when not covered


def test_compiled_extraction_answers_as_fhirpathpy_does() -> None:
    """On every example resource, each indexed parameter's values are fhirpathpy's values."""
    registry = default_registry()
    compared = 0
    for path in _EXAMPLES:
        for resource in _resources(orjson.loads(path.read_bytes())):
            if resource["resourceType"] not in registry.resource_types:
                continue
            for parameter in registry.indexed(resource["resourceType"]):
                expression = parameter.expression
                assert expression is not None
                expected = fhirpathpy.compile(expression)(resource)
                assert _compiled(expression)(resource) == expected, (path.name, expression)
                compared += 1
    assert compared > 500
