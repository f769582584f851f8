"""Local ValueSet expansion for Questionnaire answerValueSets: (system, code) pairs, no server."""

from __future__ import annotations

from collections.abc import Iterable, Iterator


class LocalTerminology:
    """CodeSystems and ValueSets held locally; expands a ValueSet to (system, code) pairs."""

    def __init__(self, resources: Iterable[dict]) -> None:
        self.code_systems: dict[str, list[str]] = {}
        self.value_sets: dict[str, dict] = {}
        self._expanded: dict[str, frozenset[tuple[str | None, str]]] = {}
        for resource in resources:
            if resource.get("resourceType") == "CodeSystem":
                self.code_systems[resource["url"]] = list(_codes(resource.get("concept", [])))
            elif resource.get("resourceType") == "ValueSet":
                self.value_sets[resource["url"]] = resource

    def expand(self, canonical: str) -> frozenset[tuple[str | None, str]]:
        """Every (system, code) in the ValueSet; ValueError when it cannot be expanded locally."""
        url = canonical.split("|", 1)[0]
        if url in self._expanded:
            return self._expanded[url]
        value_set = self.value_sets.get(url)
        if value_set is None:
            raise ValueError(f"ValueSet {url} is not available locally")
        compose = value_set.get("compose", {})
        included = set().union(*(self._part(p) for p in compose.get("include", [])))
        excluded = set().union(*(self._part(p) for p in compose.get("exclude", [])))
        self._expanded[url] = frozenset(included - excluded)
        return self._expanded[url]

    def _part(self, part: dict) -> set[tuple[str | None, str]]:
        if "filter" in part:
            raise ValueError("ValueSet filters are not supported by the local expansion")
        codes: set[tuple[str | None, str]] = set()
        system = part.get("system")
        if system is not None:
            if "concept" in part:
                codes.update((system, c["code"]) for c in part["concept"])
            elif system in self.code_systems:
                codes.update((system, code) for code in self.code_systems[system])
            else:
                raise ValueError(f"CodeSystem {system} is not available locally")
        for nested in part.get("valueSet", []):
            nested_codes = self.expand(nested)
            codes = set(nested_codes) if system is None and not codes else codes & nested_codes
        return codes


def _codes(concepts: list[dict]) -> Iterator[str]:
    """Codes of a CodeSystem concept tree, depth first."""
    for concept in concepts:
        yield concept["code"]
        yield from _codes(concept.get("concept", []))
