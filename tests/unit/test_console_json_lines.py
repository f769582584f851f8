"""Placing a validator issue's expression on a line of the pretty-printed payload."""

from __future__ import annotations

import json

from hypothesis import example, given
from hypothesis import strategies as st

from adapter.console.json_lines import expression_path, place, pretty_lines

BUNDLE = {
    "resourceType": "Bundle",
    "entry": [
        {"resource": {"resourceType": "Patient", "birthDate": "bad", "name": [{"family": 3}]}}
    ],
}


def test_the_printed_lines_are_the_document_as_json() -> None:
    text = "\n".join(line.text for line in pretty_lines(BUNDLE))
    assert json.loads(text) == BUNDLE
    assert text == json.dumps(BUNDLE, indent=2, ensure_ascii=False)


def test_an_expression_is_placed_on_its_element_s_line() -> None:
    lines = pretty_lines(BUNDLE)
    at = {line.number: line.text.strip() for line in lines}
    assert at[place("Bundle.entry[0].resource.birthDate", lines)] == '"birthDate": "bad",'  # type: ignore[index]
    assert at[place("Bundle.entry[0].resource.name[0].family", lines)] == '"family": 3'  # type: ignore[index]
    assert at[place("Bundle.entry[0].resource.ofType(Patient).name", lines)] == '"name": ['  # type: ignore[index]


def test_a_missing_element_is_placed_on_its_nearest_parent_and_nonsense_is_unplaced() -> None:
    lines = pretty_lines(BUNDLE)
    parent = place("Bundle.entry[0].resource", lines)
    assert place("Bundle.entry[0].resource.gender", lines) == parent
    assert place("Bundle", lines) is None  # the whole document: nothing to mark
    assert place("not an expression", lines) is None
    assert expression_path("Patient.name[0].given[1]") == ("name", 0, "given", 1)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=12,
)


@given(json_values)
@example({"\x7f": None})  # keys were printed ASCII-escaped, values not
def test_any_document_prints_as_json_does(document: object) -> None:
    text = "\n".join(line.text for line in pretty_lines(document))
    assert text == json.dumps(document, indent=2, ensure_ascii=False)
