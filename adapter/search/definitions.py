"""Search parameter definitions, loaded from `parameters.json` beside this module."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import orjson

PARAMETERS_FILE = Path(__file__).with_name("parameters.json")
FHIR_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")  # the FHIR `id` datatype
TYPES = ("token", "string", "date", "reference", "uri")


@dataclass(frozen=True)
class SearchParameter:
    """One search parameter of one resource type."""

    name: str
    type: str
    definition: str
    documentation: str = ""
    expression: str | None = None
    column: str | None = None
    targets: tuple[str, ...] = ()
    modifiers: tuple[str, ...] = ()


class SearchRegistry:
    """The search parameters of every resource type the API serves."""

    def __init__(self, document: dict) -> None:
        common = tuple(_parameter(item) for item in document.get("common", []))
        self._by_type: dict[str, dict[str, SearchParameter]] = {}
        for resource_type, items in document["resources"].items():
            parameters = [*common, *(_parameter(item) for item in items)]
            self._by_type[resource_type] = {p.name: p for p in parameters}

    @property
    def resource_types(self) -> tuple[str, ...]:
        """The resource types with search parameters, i.e. the ones the API serves."""
        return tuple(self._by_type)

    def parameters(self, resource_type: str) -> tuple[SearchParameter, ...]:
        """All parameters of a type (none for an unknown type)."""
        return tuple(self._by_type.get(resource_type, {}).values())

    def get(self, resource_type: str, name: str) -> SearchParameter | None:
        """One parameter by name, or None."""
        return self._by_type.get(resource_type, {}).get(name)

    def indexed(self, resource_type: str) -> tuple[SearchParameter, ...]:
        """The parameters whose values are extracted into index tables on write."""
        return tuple(p for p in self.parameters(resource_type) if p.expression)

    def includes(self, resource_type: str) -> tuple[str, ...]:
        """`_include` values: Type:param for each reference parameter whose target we serve."""
        return tuple(
            f"{resource_type}:{p.name}"
            for p in self.parameters(resource_type)
            if p.type == "reference" and any(t in self._by_type for t in p.targets)
        )


def _parameter(item: dict) -> SearchParameter:
    if item["type"] not in TYPES:
        raise ValueError(f"search parameter {item['name']}: unknown type {item['type']}")
    return SearchParameter(
        name=item["name"],
        type=item["type"],
        definition=item["definition"],
        documentation=item.get("documentation", ""),
        expression=item.get("expression"),
        column=item.get("column"),
        targets=tuple(item.get("targets", ())),
        modifiers=tuple(item.get("modifiers", ())),
    )


@cache
def default_registry() -> SearchRegistry:
    """The registry read from the packaged parameters.json (read once, on first use)."""
    return SearchRegistry(orjson.loads(PARAMETERS_FILE.read_bytes()))
