"""Index values of a resource, extracted with the FHIRPath expressions of its search parameters."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache

import fhirpathpy

from adapter.conformance.fhirpath import compile_expression
from adapter.conformance.fhirpath_functions import CompileError
from adapter.conformance.fhirpath_values import EvalError
from adapter.search.dates import date_range, period_range
from adapter.search.definitions import SearchParameter, SearchRegistry

# Longer values are not indexed (PostgreSQL caps a b-tree entry near 2.7 kB); NUL cannot be stored.
MAX_INDEXED_LENGTH = 512
_REFERENCE = re.compile(r"(?:^|/)(?P<type>[A-Z][A-Za-z]{0,63})/(?P<id>[A-Za-z0-9\-.]{1,64})$")


@dataclass
class IndexEntries:
    """The rows one resource contributes to each index table."""

    tokens: list[tuple[str, str | None, str]] = field(default_factory=list)
    strings: list[tuple[str, str]] = field(default_factory=list)
    dates: list[tuple[str, datetime, datetime]] = field(default_factory=list)
    references: list[tuple[str, str, str]] = field(default_factory=list)


def extract(resource: dict, registry: SearchRegistry) -> IndexEntries:
    """Every index row for a resource; values that are malformed are skipped, not fatal."""
    entries = IndexEntries()
    for parameter in registry.indexed(resource["resourceType"]):
        assert parameter.expression is not None
        values = _compiled(parameter.expression)(resource)
        _ADD[parameter.type](entries, parameter, values)
    return entries


@cache
def _compiled(expression: str) -> Callable[[dict], list]:
    """The expression compiled to closures (same answers, a fraction of the time), else fhirpathpy.

    Every write indexes what it stores, so this runs for each resource of every referral.
    """
    interpreted = fhirpathpy.compile(expression)
    try:
        compiled = compile_expression(expression)
    except CompileError:
        return lambda resource: interpreted(resource, None)

    def run(resource: dict) -> list:
        try:
            return compiled([resource], resource, {"resource": resource, "rootResource": resource})
        except EvalError:  # a value the subset does not handle: the interpreter does
            return interpreted(resource, None)

    return run


def normalise(text: str) -> str:
    """Case- and accent-insensitive form of a string, as string search compares them."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def parse_reference(reference: str) -> tuple[str, str] | None:
    """(type, id) of a literal reference `Type/id` or `{base}/Type/id`; None otherwise."""
    reference = reference.split("/_history/", 1)[0]
    match = _REFERENCE.search(reference)
    return (match["type"], match["id"]) if match else None


def _indexable(text: object) -> bool:
    if text is None:
        return True
    return isinstance(text, str) and len(text) <= MAX_INDEXED_LENGTH and "\x00" not in text


def _add_tokens(entries: IndexEntries, parameter: SearchParameter, values: list) -> None:
    for value in values:
        for system, code in _tokens(value):
            if _indexable(system) and _indexable(code):
                entries.tokens.append((parameter.name, system, code))


def _tokens(value: object) -> list[tuple[str | None, str]]:
    if isinstance(value, bool):
        return [(None, "true" if value else "false")]
    if isinstance(value, str | int):
        return [(None, str(value))]
    if not isinstance(value, dict):
        return []
    if "coding" in value:
        return [t for coding in value.get("coding", []) for t in _tokens(coding)]
    code = value.get("value", value.get("code"))
    return [(value.get("system"), str(code))] if isinstance(code, str) else []


def _add_strings(entries: IndexEntries, parameter: SearchParameter, values: list) -> None:
    for value in values:
        if isinstance(value, str) and value.strip() and "\x00" not in value:
            entries.strings.append((parameter.name, normalise(value.strip())[:MAX_INDEXED_LENGTH]))


def _add_dates(entries: IndexEntries, parameter: SearchParameter, values: list) -> None:
    for value in values:
        try:
            if isinstance(value, str):
                low, high = date_range(value)
            elif isinstance(value, dict):
                low, high = period_range(value)
            else:
                continue
        except (ValueError, TypeError):
            continue
        entries.dates.append((parameter.name, low, high))


def _add_references(entries: IndexEntries, parameter: SearchParameter, values: list) -> None:
    for value in values:
        if not isinstance(value, dict):
            continue
        reference = value.get("reference")
        target = parse_reference(reference) if isinstance(reference, str) else None
        if target and (not parameter.targets or target[0] in parameter.targets):
            entries.references.append((parameter.name, *target))
        identifier = value.get("identifier")
        # Reference.identifier (a logical reference) answers `param:identifier` searches directly.
        if (
            isinstance(identifier, dict)
            and isinstance(identifier.get("value"), str)
            and _indexable(identifier["value"])
            and _indexable(identifier.get("system"))
        ):
            entries.tokens.append(
                (f"{parameter.name}:identifier", identifier.get("system"), identifier["value"])
            )


_ADD = {
    "token": _add_tokens,
    "string": _add_strings,
    "date": _add_dates,
    "reference": _add_references,
    "uri": _add_tokens,  # a canonical URL is indexed as a code without a system: exact match
}
