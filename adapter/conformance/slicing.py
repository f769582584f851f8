"""Slices and reference targets of compiled profiles: which value a slice's items carry."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from adapter.conformance.profiles import Node

# The FHIR specification's own canonical base (HL7's, not a partner's): targetProfile values under
# it name an R4 resource type directly.
R4_PROFILE_BASE = "http://hl7.org/fhir/StructureDefinition/"
# The base spec slices these by url without saying so in a profile's differential.
URL_SLICED = frozenset({"extension", "modifierExtension"})
# A discriminator we cannot evaluate (type, profile, exists): its slices match nothing, so their
# rules are not applied rather than applied to the wrong items.
UNRESOLVABLE = "?"


def discriminator_path(slicing: dict) -> str:
    """The path of the first value or pattern discriminator, UNRESOLVABLE for any other kind."""
    first = slicing["discriminator"][0]
    return str(first.get("path")) if first.get("type") in ("value", "pattern") else UNRESOLVABLE


def inherit_slicing(node: Node, base: Node) -> None:
    """A derived differential's slices get the discriminator and values its base defined."""
    for name, child in node.children.items():
        base_child = base.children.get(name)
        if base_child is None:
            continue
        if child.slices and child.discriminator is None:
            child.discriminator = base_child.discriminator
        for slice_name, slice_node in child.slices.items():
            base_slice = base_child.slices.get(slice_name)
            if base_slice is not None:
                slice_node.slice_value = slice_node.slice_value or base_slice.slice_value
                inherit_slicing(slice_node, base_slice)
        inherit_slicing(child, base_child)


def resolve_slices(node: Node) -> None:
    """Give every slice the value its items carry at the discriminator path."""
    for name, child in node.children.items():
        if child.slices and child.discriminator is None and name in URL_SLICED:
            child.discriminator = "url"
        for slice_node in child.slices.values():
            if slice_node.slice_value is None and child.discriminator:
                slice_node.slice_value = _slice_value(slice_node, child.discriminator)
            resolve_slices(slice_node)
        resolve_slices(child)


def _slice_value(slice_node: Node, path: str) -> str | None:
    """The fixed or pattern string at `path` below a slice (or in a pattern on the way)."""
    node: Node | None = slice_node
    parts = path.split(".")
    for depth, part in enumerate(parts):
        assert node is not None
        whole = node.fixed if node.fixed is not None else node.pattern
        if whole is not None:
            found = next(values_at(whole, parts[depth:]), None)
            if found is not None:
                return found
        node = node.children.get(part)
        if node is None:
            break
    if node is not None:
        value = node.fixed if node.fixed is not None else node.pattern
        if isinstance(value, str):
            return value
    if path == "url":
        return slice_node.type_profile  # an extension slice: its profile is its url
    return None


def values_at(data: Any, parts: list[str]) -> Iterator[str]:
    """Every string at a dotted path in JSON data, through arrays."""
    if isinstance(data, list):
        for item in data:
            yield from values_at(item, parts)
    elif not parts:
        if isinstance(data, str):
            yield data
    elif isinstance(data, dict):
        yield from values_at(data.get(parts[0]), parts[1:])


def reference_targets(types: list[dict], type_of: Callable[[str], str | None]) -> frozenset | None:
    """The resource types a Reference element may point to; None when any type is allowed."""
    if not types or any(t.get("code") != "Reference" for t in types):
        return None  # not a Reference, or a choice with other types: nothing to narrow here
    found: set[str] = set()
    for type_ in types:
        profiles = type_.get("targetProfile") or []
        if not profiles:
            return None
        for canonical in profiles:
            if canonical.startswith(R4_PROFILE_BASE):
                name: str | None = canonical[len(R4_PROFILE_BASE) :]
            else:
                name = type_of(canonical)
            if name is None or name == "Resource":
                return None  # a profile we do not hold: precision over recall
            found.add(name)
    return frozenset(found)
