"""StructureDefinitions (ours, UK Core, BaRS) compiled from differentials into rule trees."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from adapter.conformance.invariants import lazy_check
from adapter.conformance.national import national_package
from adapter.conformance.package import Package, package
from adapter.conformance.slicing import (
    R4_PROFILE_BASE,
    discriminator_path,
    inherit_slicing,
    reference_targets,
    resolve_slices,
)
from adapter.conformance.terminology import Expansion, Terminology
from adapter.domain import is_valid_nhs_number

# Invariants checked in Python as well as published as FHIRPath: Modulus 11 is clearer in code
# and is the one definition the rest of the adapter uses.
NATIVE_INVARIANTS: dict[str, tuple[str, Callable[[Any], bool]]] = {
    "ld-nhs-1": (
        "LD-PROFILE-NHS-NUMBER",
        lambda value: not isinstance(value, str) or is_valid_nhs_number(value),
    ),
}


@dataclass
class Invariant:
    """One `constraint`: FHIRPath compiled once, or a native check standing in for it."""

    key: str
    severity: str
    human: str
    message_id: str
    check: Callable[[Any, dict], bool | None]


@dataclass
class Node:
    """One element of a profile: its rules and, below it, its children and slices."""

    name: str
    min: int | None = None
    max: str | None = None
    fixed: Any = None
    pattern: Any = None
    binding: tuple[str, Expansion] | None = None
    invariants: list[Invariant] = field(default_factory=list)
    children: dict[str, Node] = field(default_factory=dict)
    discriminator: str | None = None  # on a sliced element: a value path ("system", "url", ...)
    slices: dict[str, Node] = field(default_factory=dict)
    slice_value: str | None = None  # on a slice: the value its items carry at that path
    type_profile: str | None = None
    targets: frozenset[str] | None = None  # on a Reference: the resource types it may point to
    types: frozenset[str] | None = None  # on a choice element (value[x]): the type codes allowed

    def has_rules(self) -> bool:
        """Whether checking items against this node can find anything."""
        return bool(
            self.fixed is not None
            or self.pattern is not None
            or self.binding
            or self.invariants
            or self.children
            or self.slices
            or self.targets is not None
        )


@dataclass
class Profile:
    """A compiled StructureDefinition of ours."""

    url: str
    name: str
    type: str
    root: Node
    is_extension: bool
    base: str | None = None  # the baseDefinition: its rules hold here too
    national: bool = False  # UK Core or BaRS, not ours
    version: str | None = None
    contexts: tuple[str, ...] | None = None  # an extension's element contexts; None: not judged


class Profiles:
    """Our StructureDefinitions and the national ones, each compiled on first use."""

    def __init__(self, pkg: Package, national: Callable[[], Package] | None = None) -> None:
        self.package = pkg
        self.terminology = Terminology(pkg)
        self.sources: dict[str, tuple[dict, bool]] = {
            sd["url"]: (sd, False) for sd in pkg.by_type.get("StructureDefinition", [])
        }
        self.by_url: dict[str, Profile | None] = {}  # only finished profiles: read without the lock
        self._national = national  # read on first need: most resources never claim UK Core
        # Compiling is lazy and server threads share this object: one compiles, others wait.
        self._lock = threading.RLock()
        self._compiling: set[str] = set()

    def _load_national(self) -> None:
        """Add the national definitions (once); ours win over a national one with the same url."""
        with self._lock:
            if self._national is None:
                return
            national, self._national = self._national(), None
            # A fresh cache: a ValueSet not found before may be a national one.
            self.terminology = Terminology(self.package, national)
            sds = national.by_type.get("StructureDefinition", [])
            # Swapped whole, so a reader never sees it half-made.
            self.sources = {**{sd["url"]: (sd, True) for sd in sds}, **self.sources}

    def get(self, canonical: str) -> Profile | None:
        """A compiled profile by canonical, ignoring a `|version` suffix."""
        url = canonical.partition("|")[0]
        if url in self.by_url:
            return self.by_url[url]
        with self._lock:
            if url not in self.sources and not url.startswith(R4_PROFILE_BASE):
                self._load_national()
            if url in self.by_url or url in self._compiling:
                return self.by_url.get(url)  # a baseDefinition loop compiles to nothing
            self._compiling.add(url)
            try:
                found = self.sources.get(url)
                self.by_url[url] = self._compile(*found) if found else None
            finally:
                self._compiling.discard(url)
            return self.by_url[url]

    def chain(self, profile: Profile) -> list[Profile]:
        """The profile, then each compiled profile it derives from (not the R4 base spec)."""
        out = [profile]
        while out[-1].base and (base := self.get(out[-1].base)):
            if any(p.url == base.url for p in out):
                break  # a loop in published baseDefinitions must not hang the validator
            out.append(base)
        return out

    def resource_profile_urls(self, national: bool = True) -> list[str]:
        """Every profile of a resource type we can check against (ours, and national unless not)."""
        if national:
            self._load_national()
        return sorted(
            url
            for url, (sd, is_national) in self.sources.items()
            if sd.get("kind") == "resource" and (national or not is_national)
        )

    def _compile(self, sd: dict, is_national: bool) -> Profile:
        # The base first: a UK Core base loads the national ValueSets our bindings may name.
        base = sd.get("baseDefinition")
        parent = self.get(base) if isinstance(base, str) else None
        root = Node(sd["type"])
        for element in sd.get("differential", {}).get("element", []):
            node = root
            for segment in str(element.get("id") or element["path"]).split(".")[1:]:
                name, _, slice_name = segment.partition(":")
                if _is_type_slice(name, slice_name):
                    # value[x]:valueQuantity constrains the valueQuantity key, not a slice.
                    name, slice_name = slice_name, ""
                node = node.children.setdefault(name, Node(name))
                if slice_name:
                    node = node.slices.setdefault(slice_name, Node(name))
            self._apply(node, element, sd)
        if parent is not None:
            inherit_slicing(root, parent.root)
        resolve_slices(root)
        is_extension = sd["type"] == "Extension" and sd.get("derivation") == "constraint"
        name = str(sd.get("name") or sd["id"])
        version = sd.get("version") if isinstance(sd.get("version"), str) else None
        contexts = _element_contexts(sd) if is_extension else None
        return Profile(
            sd["url"], name, sd["type"], root, is_extension, base, is_national, version, contexts
        )

    def _apply(self, node: Node, element: dict, sd: dict) -> None:
        if "min" in element:
            node.min = int(element["min"])
        if "max" in element:
            node.max = str(element["max"])
        for key, value in element.items():
            if key.startswith("fixed"):
                node.fixed = value
            elif key.startswith("pattern"):
                node.pattern = value
        slicing = element.get("slicing")
        if slicing and slicing.get("discriminator"):
            node.discriminator = discriminator_path(slicing)
        for type_ in element.get("type", []):
            if type_.get("profile"):
                node.type_profile = type_["profile"][0]
        if element.get("type"):
            node.targets = reference_targets(element["type"], self._type_of)
            codes = frozenset(str(t.get("code") or "") for t in element["type"])
            if node.name.endswith("[x]") and all(c and "/" not in c for c in codes):
                node.types = codes  # a FHIRPath system type (a url) is never a JSON key's suffix
        binding = element.get("binding")
        if binding and binding.get("valueSet") and binding.get("strength"):
            expansion = self.terminology.expand(binding["valueSet"])
            if expansion is not None:
                node.binding = (binding["strength"], expansion)
        for constraint in element.get("constraint", []):
            if constraint.get("expression"):  # some national constraints are prose only
                node.invariants.append(_invariant(constraint, sd))

    def _type_of(self, canonical: str) -> str | None:
        """The resource type a profile constrains, None when the profile is unknown here."""
        url = canonical.partition("|")[0]
        if url not in self.sources:
            self._load_national()
        found = self.sources.get(url)
        return str(found[0]["type"]) if found else None


def _is_type_slice(name: str, slice_name: str) -> bool:
    """Whether `value[x]:valueQuantity` names the slice of one type of a choice element."""
    base = name[:-3]
    return (
        name.endswith("[x]")
        and len(slice_name) > len(base)
        and slice_name.startswith(base)
        and slice_name[len(base)].isupper()
    )


def _element_contexts(sd: dict) -> tuple[str, ...] | None:
    """Where an extension may be used, when every context is an element path we can judge."""
    contexts = sd.get("context")
    if not isinstance(contexts, list) or not contexts:
        return None
    if any(not isinstance(c, dict) or c.get("type") != "element" for c in contexts):
        return None  # fhirpath and extension contexts are not judged: precision over recall
    expressions = tuple(str(c.get("expression") or "") for c in contexts)
    return expressions if all(expressions) else None


def _invariant(constraint: dict, sd: dict) -> Invariant:
    key = constraint["key"]
    warning = constraint.get("severity") == "warning"
    message_id = "LD-PROFILE-INVARIANT-WARNING" if warning else "LD-PROFILE-INVARIANT"
    human = str(constraint.get("human") or key)
    if key in NATIVE_INVARIANTS:
        message_id, native = NATIVE_INVARIANTS[key]
        return Invariant(key, "error", human, message_id, lambda value, _env: native(value))
    # The same compiled FHIRPath as the base invariants; empty means nothing to test.
    check = lazy_check(constraint["expression"])
    return Invariant(key, constraint.get("severity", "error"), human, message_id, check)


@functools.cache
def profiles() -> Profiles:
    """Our package's profiles and the national ones, each compiled on first use."""
    return Profiles(package(), national_package)
