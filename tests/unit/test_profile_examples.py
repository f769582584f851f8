"""The package's examples and the mapping's golden outputs against our profiles."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from adapter.conformance import conformance_resources, has_errors, validate
from adapter.conformance.package import CANONICAL_BASE, package

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "conformance" / "examples").glob("*.json"))
GOLDEN = sorted((ROOT / "fixtures" / "fhir" / "referrals").glob("*.bundle.json"))
ASSESSMENTS = sorted((ROOT / "fixtures" / "fhir" / "assessments").glob("*.json"))
SD = f"{CANONICAL_BASE}/StructureDefinition/"
# What the mapping emits, by resource type, and the profile of ours it must meet.
MAPPING_PROFILES = {
    "Patient": SD + "ld-patient",
    "ServiceRequest": SD + "ld-referral",
    "Encounter": SD + "ld-contact",
    "Consent": SD + "ld-consent",
    "QuestionnaireResponse": SD + "ld-screening-response",
}


def _claimed(resource: dict) -> set[str]:
    found = set(resource.get("meta", {}).get("profile", []))
    for entry in resource.get("entry", []):
        found |= _claimed(entry.get("resource", {}))
    return found


def _errors(issues: list) -> list[tuple]:
    return [(i.message_id, i.expression, i.diagnostics) for i in issues if i.severity == "error"]


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example_is_valid_against_its_profiles(path: Path) -> None:
    resource = orjson.loads(path.read_bytes())
    assert _claimed(resource) & {sd["url"] for sd in conformance_resources("StructureDefinition")}
    assert _errors(validate(resource)) == []


def test_every_profile_has_an_example() -> None:
    claimed = set().union(*(_claimed(orjson.loads(p.read_bytes())) for p in EXAMPLES))
    profiles = {
        sd["url"]
        for sd in conformance_resources("StructureDefinition")
        if sd["type"] != "Extension"
    }
    assert profiles - claimed == set()


def test_every_extension_is_used_by_an_example() -> None:
    text = b"".join(p.read_bytes() for p in EXAMPLES)
    extensions = {
        sd["url"]
        for sd in conformance_resources("StructureDefinition")
        if sd["type"] == "Extension"
    }
    unused = {url for url in extensions if f'"{url}"'.encode() not in text}
    # ld-youth-details only appears for under-18s: the golden youth referral carries it.
    assert unused <= {SD + "ld-youth-details"}


MAPPED = GOLDEN + ASSESSMENTS


@pytest.mark.parametrize(
    "path", MAPPED, ids=lambda p: f"{p.parent.name}/{p.name.removesuffix('.json')}"
)
def test_mapping_output_meets_our_profiles(path: Path) -> None:
    bundle = orjson.loads(path.read_bytes())
    for entry in bundle["entry"]:
        resource = entry["resource"]
        profile = MAPPING_PROFILES.get(resource["resourceType"])
        if profile is not None:
            issues = validate(resource, profile)
            assert _errors(issues) == [], resource["resourceType"]
            assert not [i for i in issues if i.message_id == "LD-PROFILE-EXTENSION-UNKNOWN"]


def test_every_project_extension_the_mapping_emits_is_defined() -> None:
    emitted = set()
    for path in GOLDEN + ASSESSMENTS:
        text = path.read_text()
        start = 0
        while (at := text.find(f'"url": "{SD}', start)) >= 0:
            end = text.index('"', at + 8)
            emitted.add(text[at + 8 : end])
            start = end
    defined = {sd["url"] for sd in conformance_resources("StructureDefinition")}
    assert emitted and emitted <= defined


def test_golden_youth_referral_passes_the_youth_details_extension() -> None:
    path = (
        ROOT / "fixtures" / "fhir" / "referrals" / "youth-shrewsbury-appropriate-adult.bundle.json"
    )
    encounter = next(
        e["resource"]
        for e in orjson.loads(path.read_bytes())["entry"]
        if e["resource"]["resourceType"] == "Encounter"
    )
    assert any(x["url"] == SD + "ld-youth-details" for x in encounter["extension"])
    assert not has_errors(validate(encounter, SD + "ld-contact"))
    assert package().canonical(SD + "ld-youth-details") is not None
