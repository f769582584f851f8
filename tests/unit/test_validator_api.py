"""The validator's public surface: inputs, OperationOutcome, privacy, robustness, speed."""

from __future__ import annotations

import copy
import subprocess
import sys
import time
from pathlib import Path

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from adapter.conformance import outcome_for, validate_bundle, validate_resource
from adapter.errors import MESSAGE_ID_SYSTEM

ROOT = Path(__file__).resolve().parents[2]
SENTINEL = "Zebedee-Quintrell"
BAD_PATIENT = {
    "resourceType": "Patient",
    "id": SENTINEL + "!",
    "gender": SENTINEL,
    "birthDate": SENTINEL,
    "active": SENTINEL,
    "name": [{"family": SENTINEL, "given": [SENTINEL, None], "text": 7}],
    "telecom": [{"system": SENTINEL, "value": SENTINEL}],
    "generalPractitioner": [{"reference": SENTINEL}],
    "managingOrganization": {"reference": f"Practitioner/{SENTINEL}", "type": SENTINEL},
}


def test_bytes_str_and_dict_give_the_same_issues() -> None:
    raw = orjson.dumps(BAD_PATIENT)
    assert (
        validate_resource(raw) == validate_resource(raw.decode()) == validate_resource(BAD_PATIENT)
    )
    assert validate_bundle is validate_resource


def test_invalid_json_is_one_issue_with_line_and_column() -> None:
    issues = validate_resource(b'{\n  "resourceType": "Patient",\n  "gender": ,\n}')
    assert len(issues) == 1
    assert issues[0].code == "structure"
    assert "line 3, column 13" in issues[0].diagnostics


def test_diagnostics_never_echo_values_sent() -> None:
    issues = validate_resource(BAD_PATIENT)
    assert len(issues) >= 9
    outcome = orjson.dumps(outcome_for(issues)).decode()
    assert SENTINEL not in outcome


def test_outcome_for_no_issues_is_one_information_issue() -> None:
    outcome = outcome_for([])
    assert outcome["resourceType"] == "OperationOutcome"
    assert [(i["severity"], i["code"]) for i in outcome["issue"]] == [
        ("information", "informational")
    ]


def test_outcome_carries_expression_and_message_id() -> None:
    payload = {"resourceType": "ServiceRequest", "status": "bogus", "intent": "order"}
    issues = {i["expression"][0]: i for i in outcome_for(validate_resource(payload))["issue"]}
    status = issues["ServiceRequest.status"]
    assert status["code"] == "code-invalid"
    assert status["details"]["coding"] == [
        {"system": MESSAGE_ID_SYSTEM, "code": "LD-CODE-NOT-IN-VALUESET"}
    ]
    assert "request-status" in status["diagnostics"]
    assert issues["ServiceRequest.subject"]["code"] == "required"


def test_nothing_is_loaded_at_import_time() -> None:
    code = (
        "import adapter.conformance as c, adapter.conformance.definitions as d;"
        "print(d.definitions.cache_info().currsize)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "0"


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=12,
)
KEYS = st.sampled_from(
    ["id", "gender", "name", "given", "extension", "url", "reference", "_gender"]
)


@settings(max_examples=300, deadline=None)
@given(key=KEYS, value=JSON, where=st.sampled_from(["root", "name", "contact"]))
def test_any_json_in_any_element_gives_issues_never_an_exception(
    key: str, value: object, where: str
) -> None:
    patient: dict = {"resourceType": "Patient", "name": [{"family": "x"}], "contact": [{}]}
    target = patient if where == "root" else patient[where][0]
    target[key] = value
    issues = validate_resource(copy.deepcopy(patient))
    assert all(i.expression and i.expression[0].startswith("Patient") for i in issues)


def _bundle(n: int) -> bytes:
    entries = [
        {
            "fullUrl": f"urn:uuid:00000000-0000-4000-8000-{i:012d}",
            "resource": {
                "resourceType": "ServiceRequest",
                "status": "active",
                "intent": "order",
                "subject": {"reference": f"urn:uuid:00000000-0000-4000-8000-{i + 1:012d}"},
            }
            if i % 2 == 0
            else {"resourceType": "Patient", "gender": "female", "birthDate": "1990-01-01"},
        }
        for i in range(n)
    ]
    return orjson.dumps({"resourceType": "Bundle", "type": "collection", "entry": entries})


def test_time_grows_linearly_with_bundle_size() -> None:
    small, large = _bundle(10), _bundle(1000)
    assert validate_resource(small) == validate_resource(large) == []

    def best(raw: bytes) -> float:
        runs = []
        for _ in range(5):
            start = time.process_time()
            validate_resource(raw)
            runs.append(time.process_time() - start)
        return min(runs)

    assert best(large) < 150 * best(small)


def test_non_ascii_text_is_valid_and_long_bad_base64_fails_fast() -> None:
    patient = {
        "resourceType": "Patient",
        "name": [{"family": "O\u2019Brien", "text": "Siobh\u00e1n\u00a0O\u2019Brien"}],
        "photo": [{"contentType": "image/png", "data": "QUJD " * 20_000 + "!"}],
    }
    start = time.perf_counter()
    issues = validate_resource(patient)
    assert time.perf_counter() - start < 1.0
    assert [(i.message_id, i.expression) for i in issues] == [
        ("LD-VALUE-FORMAT", ("Patient.photo[0].data",))
    ]


def test_unknown_element_names_only_name_like_keys() -> None:
    issues = validate_resource({"resourceType": "Patient", "Jane Doe 1970": 1, "nickname": "J"})
    assert [i.diagnostics.startswith("unknown element 'nickname'") for i in issues] == [False, True]
    assert "Jane" not in issues[0].diagnostics


def test_hostile_nesting_is_an_issue_not_a_crash() -> None:
    item: dict = {"linkId": "leaf", "type": "string"}
    for depth in range(900):
        item = {"linkId": f"g{depth}", "type": "group", "item": [item]}
    issues = validate_resource({"resourceType": "Questionnaire", "status": "draft", "item": [item]})
    assert [i.message_id for i in issues] == ["LD-JSON-TOO-DEEP"]
    assert validate_resource({"resourceType": "Questionnaire", "status": "draft"}) == []


def test_control_characters_other_than_tab_cr_lf_are_refused_in_strings() -> None:
    # The R4 regexes' \S matches NUL; the datatypes page forbids every code point below U+0020
    # but tab, CR and LF (and PostgreSQL cannot store NUL in text).
    patient = {"resourceType": "Patient", "name": [{"family": "Sm\u0000ith", "text": "A\tB\r\nC"}]}
    issues = validate_resource(patient)
    assert [(i.message_id, i.expression) for i in issues] == [
        ("LD-VALUE-CONTROL-CHARACTER", ("Patient.name[0].family",))
    ]
