"""The L&D Questionnaires and their answer CodeSystems/ValueSets are valid R4 and usable offline."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fhir.resources.R4B import get_fhir_model_class

from adapter.conformance.questionnaire_response import (
    DEFAULT_DIRECTORIES,
    QuestionnaireIndex,
    load_questionnaire_index,
)
from tests.support.fhirjs import FhirJs

ROOT = Path(__file__).resolve().parents[2]
RESOURCE_DIR = ROOT / "conformance" / "questionnaires"
FIXTURE_DIR = ROOT / "fixtures" / "questionnaires"
RESOURCES = sorted(RESOURCE_DIR.glob("*.json"))
VALID_RESPONSES = sorted(FIXTURE_DIR.glob("valid-*.json"))
VALID_RESPONSES = [p for p in VALID_RESPONSES if not p.name.endswith(".expected.json")]
BASE = "https://ld-adapter.github.io/fhir"
SCREENING = f"{BASE}/Questionnaire/ld-screening"
CUSTODY = f"{BASE}/Questionnaire/ld-custody-identification"
KEBAB = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")


def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def walk(items: list[dict]) -> Iterator[dict]:
    for item in items:
        yield item
        yield from walk(item.get("item", []))


def screening_items() -> dict[str, dict]:
    return {
        i["linkId"]: i for i in walk(load(RESOURCE_DIR / "Questionnaire-ld-screening.json")["item"])
    }


@pytest.mark.parametrize("path", RESOURCES, ids=lambda p: p.name)
def test_resource_parses_as_r4(path: Path) -> None:
    resource = load(path)
    get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    assert resource["status"] == "active"
    assert resource["url"] == f"{BASE}/{resource['resourceType']}/{resource['id']}"
    assert re.fullmatch(r"\d+\.\d+\.\d+", resource["version"])
    assert path.name == f"{resource['resourceType']}-{resource['id']}.json"


@pytest.mark.parametrize("path", VALID_RESPONSES, ids=lambda p: p.name)
def test_valid_fixture_response_parses_as_r4(path: Path) -> None:
    get_fhir_model_class("QuestionnaireResponse").model_validate(load(path))


@pytest.mark.fhirjs
@pytest.mark.parametrize("path", RESOURCES + VALID_RESPONSES, ids=lambda p: p.name)
def test_fhirjs_finds_no_errors(fhirjs: FhirJs, path: Path) -> None:
    assert fhirjs.validate(load(path)) == []


def test_both_questionnaires_load_and_every_answer_value_set_expands() -> None:
    index = load_questionnaire_index()
    for url in (SCREENING, CUSTODY):
        latest = index.get(url)
        assert latest is not None
        assert index.get(f"{url}|1.0.0") is latest
        choice_items = [d for d in latest.items.values() if d.type == "choice"]
        assert choice_items and all(d.codings for d in choice_items)


def test_link_ids_are_stable_kebab_case_and_unique() -> None:
    for name in ("Questionnaire-ld-screening.json", "Questionnaire-ld-custody-identification.json"):
        link_ids = [i["linkId"] for i in walk(load(RESOURCE_DIR / name)["item"])]
        assert len(link_ids) == len(set(link_ids))
        assert all(KEBAB.fullmatch(link_id) for link_id in link_ids)


def test_screening_covers_the_outline_with_about_forty_questions() -> None:
    items = screening_items()
    groups = [k for k, v in items.items() if v["type"] == "group"]
    questions = [k for k, v in items.items() if v["type"] not in ("group", "display")]
    assert groups == [
        "context", "consent", "mental-health", "neurodevelopmental", "alcohol", "drugs",
        "physical-health", "social", "safeguarding", "outcome",
    ]  # fmt: skip
    assert 40 <= len(questions) <= 55


def test_audit_c_items_carry_the_verified_loinc_codes_and_score_zero_to_four() -> None:
    items = screening_items()
    codes = {
        link_id: items[link_id]["code"][0]["code"]
        for link_id in ("audit-c-frequency", "audit-c-typical-day", "audit-c-heavy-episodic")
    }
    assert codes == {
        "audit-c-frequency": "68518-0",
        "audit-c-typical-day": "68519-8",
        "audit-c-heavy-episodic": "68520-6",
    }
    for link_id in codes:
        scores = [o["extension"][0]["valueDecimal"] for o in items[link_id]["answerOption"]]
        assert scores == [0, 1, 2, 3, 4]
    total = items["audit-c-total"]
    assert total["code"][0]["code"] == "75626-2"
    assert total["readOnly"] is True
    assert total["extension"][0]["valueExpression"]["language"] == "text/fhirpath"


def test_clinical_groups_are_enabled_by_consent_or_lack_of_capacity() -> None:
    items = screening_items()
    for link_id in ("mental-health", "neurodevelopmental", "alcohol", "drugs", "social"):
        conditions = {c["question"] for c in items[link_id]["enableWhen"]}
        assert conditions == {"agrees-to-screening", "capacity"}
        assert items[link_id]["enableBehavior"] == "any"
    assert "enableWhen" not in items["safeguarding"]  # safeguarding is asked even without consent


def test_default_directories_include_the_shared_terminology() -> None:
    assert DEFAULT_DIRECTORIES[0] == RESOURCE_DIR
    assert any((d / "CodeSystem-ld-vulnerability.json").is_file() for d in DEFAULT_DIRECTORIES)


def test_an_answer_value_set_that_cannot_be_expanded_locally_is_refused() -> None:
    questionnaire = {
        "resourceType": "Questionnaire",
        "url": f"{BASE}/Questionnaire/broken",
        "version": "1.0.0",
        "status": "draft",
        "item": [{"linkId": "q", "type": "choice", "answerValueSet": f"{BASE}/ValueSet/not-here"}],
    }
    with pytest.raises(ValueError, match="not available locally"):
        QuestionnaireIndex([questionnaire])


def test_an_enable_when_naming_an_unknown_item_is_refused() -> None:
    questionnaire = {
        "resourceType": "Questionnaire",
        "url": f"{BASE}/Questionnaire/broken",
        "version": "1.0.0",
        "status": "draft",
        "item": [
            {
                "linkId": "q",
                "type": "boolean",
                "enableWhen": [{"question": "nope", "operator": "exists", "answerBoolean": True}],
            }
        ],
    }
    with pytest.raises(ValueError, match="unknown item"):
        QuestionnaireIndex([questionnaire])
