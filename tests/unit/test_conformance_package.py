"""conformance/ as a FHIR NPM package: manifest, index, and resources valid and resolvable."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from adapter.conformance import conformance_resource, conformance_resources, validate_resource
from adapter.conformance.package import CANONICAL_BASE, PACKAGE_DIR, package, package_index
from adapter.conformance.profiles import profiles

DEFINITIONS = sorted(
    (r["resourceType"], r["id"]) for rows in package().by_type.values() for r in rows
)


def test_manifest_names_fhir_r4_and_our_canonical() -> None:
    manifest = json.loads((PACKAGE_DIR / "package.json").read_text())
    assert manifest["fhirVersions"] == ["4.0.1"]
    assert manifest["canonical"] == CANONICAL_BASE
    assert manifest["dependencies"]["hl7.fhir.r4.core"] == "4.0.1"


def test_manifest_depends_on_the_uk_core_package_our_profiles_derive_from() -> None:
    """The UK Core dependency is the package national/ was converted from, holding every base."""
    manifest = json.loads((PACKAGE_DIR / "package.json").read_text())
    sources = json.loads((PACKAGE_DIR / "national" / "SOURCES.json").read_text())["ukcore"]
    assert manifest["dependencies"][sources["package"]] == sources["version"]
    uk_core = {
        json.loads(p.read_text())["url"]
        for p in (PACKAGE_DIR / "national" / "ukcore").glob("StructureDefinition-*.json")
    }
    bases = {
        sd["baseDefinition"]
        for sd in conformance_resources("StructureDefinition")
        if sd["baseDefinition"].startswith("https://fhir.hl7.org.uk/")
    }
    assert bases and bases <= uk_core


def test_manifest_depends_on_every_national_package_whose_terminology_we_use() -> None:
    """A consumer can resolve every UK Core or BaRS CodeSystem/ValueSet our definitions name."""
    manifest = json.loads((PACKAGE_DIR / "package.json").read_text())
    sources = json.loads((PACKAGE_DIR / "national" / "SOURCES.json").read_text())
    declared = {source["package"]: source["version"] for source in sources.values()}
    assert manifest["dependencies"] == {"hl7.fhir.r4.core": "4.0.1", **declared}
    held = {
        json.loads(path.read_text()).get("url")
        for folder in sources
        for path in (PACKAGE_DIR / "national" / folder).glob("*.json")
    }
    national = re.compile(
        r'"(https://fhir\.(?:nhs\.uk|hl7\.org\.uk)/(?:CodeSystem|ValueSet)/[^"|]+)'
    )
    named = {
        url
        for path in PACKAGE_DIR.rglob("*.json")
        if "national" not in path.relative_to(PACKAGE_DIR).parts
        for url in national.findall(path.read_text())
    }
    assert "https://fhir.nhs.uk/CodeSystem/message-events-bars" in named
    assert named - held == set()


def test_index_json_is_up_to_date() -> None:
    """Fails after a resource is added, moved or renamed: run write_package_index()."""
    on_disk = json.loads((PACKAGE_DIR / ".index.json").read_text())
    assert on_disk == package_index()


@pytest.mark.parametrize("key", DEFINITIONS, ids=lambda k: f"{k[0]}-{k[1]}")
def test_conformance_resource_is_valid_fhir_r4(key: tuple[str, str]) -> None:
    resource = conformance_resource(*key)
    assert resource is not None
    assert [i for i in validate_resource(resource) if i.severity == "error"] == []


def test_our_canonicals_sit_under_the_project_base() -> None:
    for sd in conformance_resources("StructureDefinition"):
        assert sd["url"] == f"{CANONICAL_BASE}/StructureDefinition/{sd['id']}"


def test_every_binding_expands_locally() -> None:
    compiled = profiles()
    for sd in conformance_resources("StructureDefinition"):
        for element in sd["differential"]["element"]:
            if "binding" in element:
                expansion = compiled.terminology.expand(element["binding"]["valueSet"])
                assert expansion is not None and expansion.codes, element["id"]


def test_message_definitions_name_profiles_we_publish() -> None:
    definitions = conformance_resources("MessageDefinition")
    assert {d["id"] for d in definitions} >= {
        "ld-referral-request",
        "ld-onward-referral-request",
        "ld-referral-cancellation",
        "ld-referral-response",
    }
    for definition in definitions:
        for focus in definition["focus"]:
            if focus.get("profile", "").startswith(CANONICAL_BASE):
                assert package().canonical(focus["profile"]) is not None
        for allowed in definition.get("allowedResponse", []):
            assert package().canonical(allowed["message"]) is not None


def test_lookup_by_type_and_id_for_the_fhir_api() -> None:
    patient = conformance_resource("StructureDefinition", "ld-patient")
    assert patient is not None and patient["type"] == "Patient"
    assert conformance_resource("StructureDefinition", "no-such-profile") is None
    assert conformance_resource("ValueSet", "ld-patient") is None
    assert any(q["id"] == "ld-screening" for q in conformance_resources("Questionnaire"))
    assert conformance_resources("Basic") == []


def test_resources_returned_are_the_published_ones(tmp_path: Path) -> None:
    ids = {sd["id"] for sd in conformance_resources("StructureDefinition")}
    assert {"ld-referral", "ld-onward-referral", "ld-contact", "ld-screening-response"} <= ids
    assert {"ld-message-header-referral", "ld-message-header-response"} <= ids
