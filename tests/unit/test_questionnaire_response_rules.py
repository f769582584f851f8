"""enableWhen operators, answer types and options on a small purpose-built Questionnaire."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapter.conformance.questionnaire_response import (
    QuestionnaireIndex,
    load_questionnaire_index,
    validate_questionnaire_response,
)

URL = "https://ld-adapter.github.io/fhir/Questionnaire/test-rules"
UCUM = "http://unitsofmeasure.org"
COLOURS = "https://ld-adapter.github.io/fhir/CodeSystem/test-colour"


def ew(question: str, operator: str, **answer: object) -> dict:
    return {"question": question, "operator": operator, **answer}


def questionnaire(version: str = "1.0.0") -> dict:
    """Questions that use every operator and answer type the validator supports."""
    return {
        "resourceType": "Questionnaire",
        "url": URL,
        "version": version,
        "status": "active",
        "item": [
            {"linkId": "age", "type": "integer"},
            {"linkId": "score", "type": "decimal"},
            {"linkId": "seen-on", "type": "date"},
            {"linkId": "weight", "type": "quantity"},
            {"linkId": "note", "type": "string"},
            {
                "linkId": "older",
                "type": "boolean",
                "enableWhen": [ew("age", ">", answerInteger=17)],
            },
            {
                "linkId": "young",
                "type": "boolean",
                "enableWhen": [ew("age", "<", answerInteger=18)],
            },
            {
                "linkId": "high",
                "type": "boolean",
                "enableWhen": [ew("score", ">=", answerDecimal=2.5)],
            },
            {
                "linkId": "early",
                "type": "boolean",
                "enableWhen": [ew("seen-on", "<=", answerDate="2026-01-31")],
            },
            {
                "linkId": "heavy",
                "type": "boolean",
                "enableWhen": [
                    ew("weight", ">", answerQuantity={"value": 100, "system": UCUM, "code": "kg"})
                ],
            },
            {
                "linkId": "noted",
                "type": "boolean",
                "enableWhen": [ew("note", "exists", answerBoolean=True)],
            },
            {
                "linkId": "silent",
                "type": "boolean",
                "enableWhen": [ew("note", "exists", answerBoolean=False)],
            },
            {
                "linkId": "both",
                "type": "boolean",
                "enableWhen": [
                    ew("age", ">=", answerInteger=18),
                    ew("score", "<", answerDecimal=1),
                ],
                "enableBehavior": "all",
            },
            {
                "linkId": "size",
                "type": "choice",
                "answerOption": [{"valueInteger": 1}, {"valueInteger": 2}],
            },
            {
                "linkId": "colour",
                "type": "open-choice",
                "answerOption": [{"valueCoding": {"system": COLOURS, "code": "red"}}],
            },
            {
                "linkId": "pets",
                "type": "group",
                "repeats": True,
                "item": [{"linkId": "pet", "type": "string"}],
            },
        ],
    }


INDEX = QuestionnaireIndex([questionnaire("1.0.0"), questionnaire("1.10.0")])


def answer(link_id: str, **value: object) -> dict:
    return {"linkId": link_id, "answer": [value]}


def check(*items: dict, canonical: str = f"{URL}|1.0.0") -> list[tuple[str | None, str]]:
    response = {
        "resourceType": "QuestionnaireResponse",
        "questionnaire": canonical,
        "status": "completed",
        "item": list(items),
    }
    issues = validate_questionnaire_response(response, INDEX)
    return [(i.message_id, i.expression[0]) for i in issues]


def disabled(index: int) -> tuple[str, str]:
    return ("LD-QR-DISABLED-ANSWERED", f"QuestionnaireResponse.item[{index}]")


@pytest.mark.parametrize(
    ("given_answer", "follow_up", "enabled"),
    [
        (answer("age", valueInteger=18), "older", True),
        (answer("age", valueInteger=17), "older", False),
        (answer("age", valueInteger=17), "young", True),
        (answer("age", valueInteger=18), "young", False),
        (answer("score", valueDecimal=2.5), "high", True),
        (answer("score", valueDecimal=2.49), "high", False),
        (answer("seen-on", valueDate="2026-01-31"), "early", True),
        (answer("seen-on", valueDate="2026-02-01"), "early", False),
        (
            answer("weight", valueQuantity={"value": 101, "system": UCUM, "code": "kg"}),
            "heavy",
            True,
        ),
        (
            answer("weight", valueQuantity={"value": 99, "system": UCUM, "code": "kg"}),
            "heavy",
            False,
        ),
        (
            answer("weight", valueQuantity={"value": 101, "system": UCUM, "code": "[lb_av]"}),
            "heavy",
            False,
        ),
        (answer("note", valueString="x"), "noted", True),
        (answer("note", valueString="x"), "silent", False),
    ],
)
def test_comparison_operators(given_answer: dict, follow_up: str, enabled: bool) -> None:
    issues = check(given_answer, answer(follow_up, valueBoolean=True))
    assert issues == ([] if enabled else [disabled(1)])


def test_exists_false_and_no_answer_disable_comparisons() -> None:
    assert check(answer("silent", valueBoolean=True)) == []
    assert check(answer("older", valueBoolean=True)) == [disabled(0)]


def test_enable_behavior_all_needs_every_condition() -> None:
    age, low = answer("age", valueInteger=30), answer("score", valueDecimal=0.5)
    assert check(age, low, answer("both", valueBoolean=True)) == []
    high = answer("score", valueDecimal=3)
    assert check(age, high, answer("both", valueBoolean=True)) == [disabled(2)]


def test_primitive_answer_options_and_open_choice() -> None:
    assert check(answer("size", valueInteger=2), answer("colour", valueString="teal")) == []
    assert check(answer("size", valueInteger=3)) == [
        ("LD-QR-ANSWER-NOT-IN-OPTIONS", "QuestionnaireResponse.item[0].answer[0].valueInteger")
    ]
    assert check(answer("colour", valueCoding={"system": COLOURS, "code": "blue"})) == [
        ("LD-QR-ANSWER-NOT-IN-OPTIONS", "QuestionnaireResponse.item[0].answer[0].valueCoding")
    ]


def test_repeating_group_may_appear_twice_but_a_question_may_not() -> None:
    pet = {"linkId": "pets", "item": [answer("pet", valueString="cat")]}
    assert check(pet, pet) == []
    assert check(answer("age", valueInteger=1), answer("age", valueInteger=2)) == [
        ("LD-QR-DUPLICATE-ITEM", "QuestionnaireResponse.item[1]")
    ]


def test_bare_url_means_the_latest_version() -> None:
    latest = INDEX.get(URL)
    assert latest is not None and latest.version == "1.10.0"
    assert check(answer("age", valueInteger=1), canonical=URL) == []


def test_unknown_version_names_the_known_versions() -> None:
    response = {"resourceType": "QuestionnaireResponse", "questionnaire": f"{URL}|2.0.0"}
    [issue] = validate_questionnaire_response(response, INDEX)
    assert issue.message_id == "LD-QR-UNKNOWN-VERSION"
    assert "1.0.0, 1.10.0" in issue.diagnostics


def test_required_items_are_only_checked_on_completed_responses() -> None:
    screening = load_questionnaire_index()
    path = Path(__file__).resolve().parents[2] / "fixtures" / "questionnaires"
    response = json.loads((path / "invalid-required-missing.json").read_text(encoding="utf-8"))
    response["status"] = "in-progress"
    assert validate_questionnaire_response(response, screening) == []


def test_issues_carry_the_callers_base_path_and_never_echo_answers() -> None:
    screening = load_questionnaire_index()
    path = Path(__file__).resolve().parents[2] / "fixtures" / "questionnaires"
    response = json.loads((path / "invalid-unknown-linkid.json").read_text(encoding="utf-8"))
    response["item"][0]["item"][1]["answer"] = [{"valueString": "Sensitive free text"}]
    response["item"][2]["item"][-1]["linkId"] = "Sensitive linkId"
    issues = validate_questionnaire_response(response, screening, "Bundle.entry[1].resource")
    assert {i.message_id for i in issues} == {"LD-QR-UNKNOWN-LINKID", "LD-QR-ANSWER-TYPE"}
    assert all(i.expression[0].startswith("Bundle.entry[1].resource.item[") for i in issues)
    assert not any("Sensitive" in i.diagnostics for i in issues)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=12), inner, max_size=3)
    ),
    max_leaves=12,
)
ITEM = st.fixed_dictionaries(
    {"linkId": st.sampled_from(["age", "score", "older", "pets", "pet", "colour", "x"])},
    optional={
        "answer": st.lists(
            st.dictionaries(
                st.sampled_from(
                    [
                        "valueInteger",
                        "valueDecimal",
                        "valueCoding",
                        "valueString",
                        "valueQuantity",
                        "item",
                    ]
                ),
                JSON,
                max_size=2,
            ),
            max_size=2,
        ),
        "item": JSON,
    },
)


@settings(max_examples=300, deadline=None)
@given(st.lists(ITEM | JSON, max_size=4), st.sampled_from(["completed", "in-progress", None]))
def test_any_json_gives_issues_not_exceptions(items: list, status: str | None) -> None:
    response = {"questionnaire": f"{URL}|1.0.0", "status": status, "item": items}
    issues = validate_questionnaire_response(response, INDEX)
    assert all(i.message_id and i.expression for i in issues)


def test_a_choice_with_string_options_refuses_other_strings() -> None:
    from adapter.conformance.questionnaire_response import (
        QuestionnaireIndex,
        validate_questionnaire_response,
    )

    url = "https://example.org/Questionnaire/strings"
    questionnaire = {
        "resourceType": "Questionnaire",
        "url": url,
        "version": "1",
        "status": "active",
        "item": [
            {
                "linkId": "colour",
                "type": "choice",
                "answerOption": [{"valueString": "red"}, {"valueString": "blue"}],
            },
            {
                "linkId": "pet",
                "type": "open-choice",
                "answerOption": [{"valueString": "cat"}],
            },
        ],
    }
    index = QuestionnaireIndex([questionnaire])

    def response(colour: str, pet: str) -> dict:
        return {
            "resourceType": "QuestionnaireResponse",
            "questionnaire": f"{url}|1",
            "status": "completed",
            "item": [
                {"linkId": "colour", "answer": [{"valueString": colour}]},
                {"linkId": "pet", "answer": [{"valueString": pet}]},
            ],
        }

    assert validate_questionnaire_response(response("red", "dog"), index) == []
    issues = validate_questionnaire_response(response("green", "cat"), index)
    assert [(i.message_id, i.expression) for i in issues] == [
        ("LD-QR-ANSWER-NOT-IN-OPTIONS", ("QuestionnaireResponse.item[0].answer[0].valueString",))
    ]
