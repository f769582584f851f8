"""Never a crash: any element of any fixture retyped (string, number, list, object, null) still
gets Issues from the full validator (base, profiles, messages, terminology, questionnaires)."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from adapter.conformance import validate
from adapter.errors import Issue

ROOT = Path(__file__).resolve().parents[2]
Path_ = tuple[str | int, ...]


def _load(path: Path) -> object:
    try:
        return json.loads(path.read_text())
    except ValueError:
        return None  # the fixtures of broken JSON


def _paths(node: object, prefix: Path_ = ()) -> Iterator[Path_]:
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _paths(value, (*prefix, i))


DOCS = {
    p.relative_to(ROOT).as_posix(): doc
    for p in sorted((ROOT / "fixtures").rglob("*.json"))
    if ".expected" not in p.name and (doc := _load(p)) is not None
}
PATHS = {name: list(_paths(doc)) for name, doc in DOCS.items()}
KINDS = ("string", "number", "list", "object", "null", "boolean")


def _retyped(name: str, where: Path_, kind: str) -> object:
    """The fixture with the element at `where` replaced by a value of another JSON type."""
    doc = copy.deepcopy(DOCS[name])
    parent, original = None, doc
    for step in where:
        parent, original = original, original[step]  # type: ignore[index]
    value = {
        "string": "x",
        "number": 7,
        "list": [original],
        "object": {"k": original},
        "null": None,
        "boolean": True,
    }[kind]
    if parent is None:
        return value
    parent[where[-1]] = value  # type: ignore[index]
    return doc


@st.composite
def retypings(draw: st.DrawFn) -> tuple[str, Path_, str]:
    name = draw(st.sampled_from(sorted(DOCS)))
    return name, draw(st.sampled_from(PATHS[name])), draw(st.sampled_from(KINDS))


CONSENT = "fixtures/conformance/invalid/consent-declined-but-permit.json"
MESSAGE = "fixtures/conformance/invalid/message-event-mismatch.json"
ANSWER = ("entry", 5, "resource", "item", 0, "item", 0)
CONDITION = "fixtures/validation/valid/condition-clinical-status.json"


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=retypings())
@example(case=(CONSENT, ("extension", 0, "url"), "list"))
@example(case=(CONSENT, ("extension", 0, "valueCoding", "system"), "list"))
@example(case=(CONSENT, ("extension", 0, "valueCoding", "code"), "list"))
@example(case=(MESSAGE, (*ANSWER, "linkId"), "list"))
@example(case=(MESSAGE, (*ANSWER, "answer", 0, "valueCoding", "system"), "list"))
@example(case=(CONDITION, ("clinicalStatus", "coding", 0, "system"), "list"))
@example(case=(CONDITION, ("clinicalStatus", "coding", 0, "code"), "list"))
def test_a_retyped_element_gets_issues_never_an_exception(case: tuple[str, Path_, str]) -> None:
    found = validate(_retyped(*case))
    assert isinstance(found, list)
    assert all(isinstance(i, Issue) for i in found)
