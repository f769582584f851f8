"""Parsing search parameters: values, modifiers, prefixes, paging, unknown names, bad input."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapter.errors import InvalidInput
from adapter.search import default_registry
from adapter.search.parse import parse_search
from adapter.search.query import (
    DateCriterion,
    IdCriterion,
    Include,
    ReferenceCriterion,
    ReferenceIdentifierCriterion,
    StringCriterion,
    Token,
    TokenCriterion,
)


def parse(resource_type: str, *params: tuple[str, str]):  # type: ignore[no-untyped-def]
    return parse_search(resource_type, list(params), default_registry())


def test_tokens_in_every_form() -> None:
    parsed = parse("ServiceRequest", ("identifier", "sys|v1,|v2,sys|,v\\,4"), ("status", "active"))
    assert parsed.query.criteria == (
        TokenCriterion(
            "identifier",
            (Token("sys", "v1"), Token("", "v2"), Token("sys", None), Token(None, "v,4")),
        ),
        TokenCriterion("status", (Token(None, "active"),)),
    )


def test_references_and_the_identifier_modifier() -> None:
    parsed = parse(
        "ServiceRequest",
        ("patient", "p1"),
        ("subject", "Patient/p2"),
        ("subject", "https://elsewhere.example/fhir/Patient/p3"),
        ("subject:identifier", "https://fhir.nhs.uk/Id/nhs-number|9990012342"),
    )
    assert parsed.query.criteria == (
        ReferenceCriterion("patient", (("Patient", "p1"),)),
        ReferenceCriterion("subject", (("Patient", "p2"),)),
        ReferenceCriterion("subject", (("Patient", "p3"),)),
        ReferenceIdentifierCriterion(
            "subject",
            ("Patient", "Group", "Location", "Device"),
            (Token("https://fhir.nhs.uk/Id/nhs-number", "9990012342"),),
        ),
    )


def test_strings_are_normalised_and_dates_keep_their_prefix() -> None:
    parsed = parse(
        "Patient", ("family", "ÓBrien"), ("family:contains", "bri"), ("birthdate", "lt1990")
    )
    family, contains, birthdate = parsed.query.criteria
    assert family == StringCriterion("family", ("obrien",), "start")
    assert contains == StringCriterion("family", ("bri",), "contains")
    assert isinstance(birthdate, DateCriterion) and birthdate.values[0].prefix == "lt"


def test_paging_include_and_id() -> None:
    parsed = parse(
        "ServiceRequest",
        ("_count", "500"),
        ("_offset", "40"),
        ("_include", "ServiceRequest:patient"),
        ("_id", "a,b"),
    )
    assert (parsed.query.count, parsed.query.offset) == (100, 40)
    assert parsed.query.includes == (Include("patient"),)
    assert parsed.query.criteria == (IdCriterion(("a", "b")),)


def test_unknown_parameters_are_reported_not_used() -> None:
    parsed = parse(
        "Patient", ("colour", "blue"), ("_sort", "family"), ("family", "Smith"), ("_format", "json")
    )
    assert parsed.unknown == ("colour", "_sort")
    assert parsed.used == (("family", "Smith"),)


@pytest.mark.parametrize(
    ("resource_type", "name", "value"),
    [
        ("ServiceRequest", "authored", "2024-13-01"),
        ("ServiceRequest", "authored", "sa2024"),
        ("ServiceRequest", "_lastUpdated", "soon"),
        ("ServiceRequest", "_count", "-1"),
        ("ServiceRequest", "_count", "ten"),
        ("ServiceRequest", "_count", "²"),
        ("ServiceRequest", "_offset", "1.5"),
        ("ServiceRequest", "status:not", "active"),
        ("ServiceRequest", "patient", "Patient/"),
        ("ServiceRequest", "_include", "ServiceRequest:requester"),
        ("ServiceRequest", "_include", "Patient:organization"),
        ("ServiceRequest", "_include", "ServiceRequest:subject:Device"),
        ("ServiceRequest", "_include", "ServiceRequest:patient:Location"),
        ("ServiceRequest", "identifier", "a|b|c"),
        ("Patient", "family:exact", "Smith"),
        ("Patient", "_id", "not/an/id"),
    ],
)
def test_bad_values_are_400_naming_the_parameter(resource_type: str, name: str, value: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse(resource_type, (name, value))
    assert caught.value.issues[0].expression == (name,)
    assert value not in caught.value.issues[0].diagnostics


def test_every_bad_parameter_is_reported_at_once() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse("ServiceRequest", ("authored", "x"), ("_count", "y"))
    assert [i.expression for i in caught.value.issues] == [("authored",), ("_count",)]


def test_nul_characters_are_refused() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse("Patient", ("family", "a\x00b"))
    assert caught.value.issues[0].expression == ("family",)


NAMES = st.sampled_from(
    [
        "authored",
        "patient",
        "patient:identifier",
        "subject:Patient",
        "status",
        "identifier",
        "_id",
        "_lastUpdated",
        "_count",
        "_offset",
        "_include",
        "family",
        "family:contains",
        "birthdate",
    ]
)


@given(st.lists(st.tuples(NAMES | st.text(max_size=12), st.text(max_size=40)), max_size=6))
def test_any_input_parses_or_is_a_400(params: list[tuple[str, str]]) -> None:
    for resource_type in ("ServiceRequest", "Patient"):
        try:
            parse(resource_type, *params)
        except InvalidInput as error:
            assert all(issue.expression for issue in error.issues)
