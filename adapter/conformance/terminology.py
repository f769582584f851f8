"""Local ValueSet expansion from the package's CodeSystems: no terminology server."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TypeGuard

from adapter.conformance.package import Package


@dataclass(frozen=True)
class Expansion:
    """The (system, code) pairs of a ValueSet; `open_systems` are included whole, not enumerable."""

    url: str
    name: str
    codes: frozenset[tuple[str, str]]
    open_systems: frozenset[str]

    def contains(self, system: object, code: object) -> bool | None:
        """True/False when we can tell, None when the system is included but not enumerable here."""
        if not isinstance(system, str) or not isinstance(code, str):
            return False  # a wrongly typed system or code is in no value set (base tier says why)
        if system in self.open_systems:
            return None
        return (system, code) in self.codes

    def describe(self) -> str:
        """The value set and, when short, its codes; never any payload value."""
        if len(self.codes) <= 8 and not self.open_systems:
            return f"{self.name} ({', '.join(sorted(c for _, c in self.codes))})"
        return self.name


class Terminology:
    """Expands and caches the ValueSets of one or more packages (ours first, then national)."""

    def __init__(self, *packages: Package) -> None:
        self.packages = packages
        self._cache: dict[str, Expansion | None] = {}

    def canonical(self, reference: str) -> dict | None:
        """A ValueSet or CodeSystem by canonical, from the first package that has it."""
        for pkg in self.packages:
            found = pkg.canonical(reference)
            if found is not None:
                return found
        return None

    def expand(self, canonical: str) -> Expansion | None:
        """The expansion of a ValueSet in the package, None if the package does not have it."""
        if canonical not in self._cache:
            self._cache[canonical] = None  # guards against a ValueSet that includes itself
            self._cache[canonical] = self._expand(canonical)
        return self._cache[canonical]

    def _expand(self, canonical: str) -> Expansion | None:
        vs = self.canonical(canonical)
        if vs is None or vs.get("resourceType") != "ValueSet":
            return None
        codes: set[tuple[str, str]] = set()
        open_systems: set[str] = set()
        for include in vs.get("compose", {}).get("include", []):
            system = include.get("system")
            if system and include.get("concept"):
                codes.update((system, c["code"]) for c in include["concept"])
            elif system:
                cs = self.canonical(system)
                if _complete(cs) and not include.get("filter"):
                    codes.update((system, code) for code in _all_codes(cs.get("concept", [])))
                else:  # SNOMED, LOINC, dm+d, a fragment or a filter: not enumerable here
                    open_systems.add(system)
            for inner in include.get("valueSet", []):
                nested = self.expand(inner)
                if nested is None:
                    return None  # part of it is unknown here: judging codes would guess
                codes.update(nested.codes)
                open_systems.update(nested.open_systems)
        name = str(vs.get("name") or vs.get("id") or canonical)
        return Expansion(canonical, name, frozenset(codes), frozenset(open_systems))


def _complete(cs: dict | None) -> TypeGuard[dict]:
    """Whether a CodeSystem lists the codes we accept (our fragments list all we use)."""
    return (
        cs is not None
        and cs.get("resourceType") == "CodeSystem"
        and cs.get("content", "complete") in ("complete", "fragment")
        and bool(cs.get("concept"))
    )


def _all_codes(concepts: list[dict]) -> Iterator[str]:
    for concept in concepts:
        yield concept["code"]
        yield from _all_codes(concept.get("concept", []))
