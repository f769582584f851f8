"""Extension.url is a uri: absolute at the top, a relative name only inside a complex extension."""

from __future__ import annotations

from adapter.conformance import validate_resource


def _found(extension: dict) -> list[tuple[str, str]]:
    patient = {"resourceType": "Patient", "extension": [extension]}
    return [(i.message_id, i.expression[0]) for i in validate_resource(patient)]


def test_complex_extension_parts_may_use_relative_names() -> None:
    complex_extension = {
        "url": "https://example.org/fhir/StructureDefinition/referral-source",
        "extension": [{"url": "source", "valueString": "custody"}],
    }
    assert _found(complex_extension) == []


def test_an_extension_on_a_value_inside_an_extension_needs_an_absolute_url() -> None:
    coding = {"system": "https://example.org/cs", "code": "a"}
    coding["extension"] = [{"url": "note", "valueString": "x"}]
    extension = {"url": "https://example.org/fhir/ext", "valueCoding": coding}
    assert _found(extension) == [
        ("LD-EXT-URL-NOT-ABSOLUTE", "Patient.extension[0].valueCoding.extension[0].url")
    ]
