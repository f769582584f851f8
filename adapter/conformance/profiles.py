"""Our StructureDefinitions (differentials) compiled into element trees of rules, once."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from adapter.conformance.invariants import lazy_check
from adapter.conformance.package import Package, package
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
    discriminator: str | None = None  # on a sliced element: "system" or "url"
    slices: dict[str, Node] = field(default_factory=dict)
    slice_value: str | None = None  # on a slice: the system or url its items carry
    type_profile: str | None = None

    def has_rules(self) -> bool:
        """Whether checking items against this node can find anything."""
        return bool(
            self.fixed is not None
            or self.pattern is not None
            or self.binding
            or self.invariants
            or self.children
            or self.slices
        )


@dataclass
class Profile:
    """A compiled StructureDefinition of ours."""

    url: str
    name: str
    type: str
    root: Node
    is_extension: bool


class Profiles:
    """Every StructureDefinition in the package, compiled; extensions also indexed by url."""

    def __init__(self, pkg: Package) -> None:
        self.package = pkg
        self.terminology = Terminology(pkg)
        self.by_url: dict[str, Profile] = {}
        for sd in pkg.by_type.get("StructureDefinition", []):
            profile = self._compile(sd)
            self.by_url[profile.url] = profile

    def get(self, canonical: str) -> Profile | None:
        """A compiled profile by canonical, ignoring a `|version` suffix."""
        return self.by_url.get(canonical.partition("|")[0])

    def _compile(self, sd: dict) -> Profile:
        root = Node(sd["type"])
        for element in sd.get("differential", {}).get("element", []):
            node = root
            for segment in str(element.get("id") or element["path"]).split(".")[1:]:
                name, _, slice_name = segment.partition(":")
                node = node.children.setdefault(name, Node(name))
                if slice_name:
                    node = node.slices.setdefault(slice_name, Node(name))
            self._apply(node, element, sd)
        _resolve_slices(root)
        is_extension = sd["type"] == "Extension" and sd.get("derivation") == "constraint"
        return Profile(sd["url"], str(sd.get("name") or sd["id"]), sd["type"], root, is_extension)

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
            node.discriminator = slicing["discriminator"][0]["path"]
        for type_ in element.get("type", []):
            if type_.get("profile"):
                node.type_profile = type_["profile"][0]
        binding = element.get("binding")
        if binding and binding.get("valueSet"):
            expansion = self.terminology.expand(binding["valueSet"])
            if expansion is not None:
                node.binding = (binding["strength"], expansion)
        for constraint in element.get("constraint", []):
            node.invariants.append(_invariant(constraint, sd))


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


def _resolve_slices(node: Node) -> None:
    """Give every slice the system or url that its items carry."""
    for child in node.children.values():
        for slice_node in child.slices.values():
            inner = slice_node.children.get(child.discriminator or "")
            if inner is not None and isinstance(inner.fixed, str):
                slice_node.slice_value = inner.fixed
            elif inner is not None and isinstance(inner.pattern, str):
                slice_node.slice_value = inner.pattern
            elif child.discriminator == "url":
                slice_node.slice_value = slice_node.type_profile
            _resolve_slices(slice_node)
        _resolve_slices(child)


@functools.cache
def profiles() -> Profiles:
    """The package's profiles, compiled on first use."""
    return Profiles(package())
