"""Our code lists and the loader that answers questions about them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from adapter.mapping import codes

FILES = codes.terminology_files()
BY_NAME = {path.stem: path for path in FILES}
PROJECT_BASE = "https://ld-adapter.github.io/fhir/"


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_each_file_is_one_described_resource_named_after_its_id(path: Path) -> None:
    resource = json.loads(path.read_text(encoding="utf-8"))
    assert path.stem == f"{resource['resourceType']}-{resource['id']}"
    for element in ("url", "version", "name", "status", "description"):
        assert resource[element], element
    if resource["resourceType"] == "CodeSystem":
        assert resource["content"] in ("complete", "fragment")
        assert resource["count"] == len(resource["concept"])
        if resource["url"].startswith(PROJECT_BASE):
            assert resource["url"] == f"{PROJECT_BASE}CodeSystem/{resource['id']}"


@pytest.mark.parametrize(
    "name", [p.stem.removeprefix("CodeSystem-") for p in FILES if p.stem.startswith("CodeSystem-")]
)
def test_project_code_systems_say_why_a_project_code_is_used(name: str) -> None:
    code_list = codes.code_list(name)
    resource = json.loads(BY_NAME[f"CodeSystem-{name}"].read_text())
    if code_list.url.startswith(f"{PROJECT_BASE}CodeSystem/ld-"):
        assert "project CodeSystem" in resource["description"]


def test_concept_maps_only_name_codes_that_exist() -> None:
    for path in (p for p in FILES if p.stem.startswith("ConceptMap-")):
        concept_map = json.loads(path.read_text())
        for group in concept_map["group"]:
            source = codes.terminology().by_url[group["source"]]
            for element in group["element"]:
                assert element["code"] in source.concepts
                target = codes.terminology().by_url.get(group["target"])
                for t in element["target"]:
                    if target is not None and "code" in t:
                        assert t["code"] in target.concepts


def test_membership_display_and_properties() -> None:
    assert codes.has("ld-referral-setting", "custody-suite")
    assert not codes.has("ld-referral-setting", "police-station")
    assert not codes.has("ld-referral-setting", None)
    assert codes.display("nhsdd-source-of-referral-mh", "E1") == "Police"
    assert codes.prop("ld-consent-decision", "declined", "provision-type") == "deny"
    assert codes.prop("nhsdd-source-of-referral-mh", "B1", "requester-is-patient") is True


def test_the_source_of_referral_list_is_the_one_in_the_domain_notes() -> None:
    assert set(codes.codes("nhsdd-source-of-referral-mh")) == {
        "E1", "E2", "E3", "E4", "E5", "E6", "B1", "B2", "A1", "M3", "M4", "M6", "H1",
    }  # fmt: skip


def test_provisional_labels_are_flagged_as_such() -> None:
    resource = json.loads(BY_NAME["CodeSystem-nhsdd-source-of-referral-mh"].read_text())
    flagged = {c["code"] for c in resource["concept"] if "provisional" in c.get("definition", "")}
    assert flagged == {"E1", "E2", "E3", "E4", "E5", "E6"}


def test_verified_snomed_codes_for_vulnerabilities() -> None:
    mapped = {
        concern: [t.code for t in codes.translate("ld-vulnerability-to-snomed", concern)]
        for concern in codes.codes("ld-vulnerability")
    }
    assert mapped["mental-health"] == ["413307004"]
    assert mapped["learning-disability"] == ["110359009"]
    assert mapped["alcohol"] == ["15167005"]
    assert mapped["drugs"] == ["66214007"]
    assert mapped["homelessness"] == ["32911000"]
    assert mapped["autism"] == []


def test_custody_maps_to_police_station_and_courts_map_to_nothing() -> None:
    targets = {
        s: [t.code for t in codes.translate("ld-referral-setting-to-activity-location-type", s)]
        for s in codes.codes("ld-referral-setting")
    }
    assert targets["custody-suite"] == ["M03"] and targets["voluntary-attendance"] == ["M03"]
    assert targets["magistrates-court"] == [] and targets["crown-court"] == []


def test_reverse_translation_only_uses_equivalent_targets() -> None:
    sct = "http://snomed.info/sct"
    assert codes.reverse_translate("ld-vulnerability-to-snomed", sct, "413307004") == (
        "mental-health",
    )
    assert codes.reverse_translate("ld-vulnerability-to-snomed", sct, "66214007") == ()


def test_urls_come_from_data() -> None:
    assert codes.url("identifier.nhs-number") == "https://fhir.nhs.uk/Id/nhs-number"
    assert codes.url("extension.pathway-status").startswith(PROJECT_BASE)


def test_nothing_is_read_at_import_time() -> None:
    import subprocess
    import sys

    script = (
        "import builtins, pathlib; opened = [];"
        "orig = pathlib.Path.read_text;"
        "pathlib.Path.read_text = lambda self, *a, **k: opened.append(self) or orig(self, *a, **k);"
        "import adapter.mapping, adapter.native.referral_schema; print(len(opened))"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "0"
