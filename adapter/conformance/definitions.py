"""The FHIR R4 base-spec data in conformance/base/, compiled once on first use."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from adapter.conformance.invariants import InvariantSet, base_invariants

BASE_DIR = Path(__file__).resolve().parents[2] / "conformance" / "base"
JSON_TYPES = {"boolean": (bool,), "integer": (int,), "number": (int, float), "string": (str,)}


@dataclass(frozen=True)
class Primitive:
    """One primitive type: the JSON type it travels as, its regex and integer range."""

    name: str
    json_type: str
    pattern: re.Pattern[str] | None
    low: int | None
    high: int | None


@dataclass(frozen=True)
class ValueSet:
    """A required-binding value set we can enumerate."""

    name: str
    systems: frozenset[str]
    codes: frozenset[str]


@dataclass
class Element:
    """One JSON key of a type: the FHIR type behind it, cardinality, binding, targets."""

    key: str
    type: str
    is_list: bool
    choice: str | None = None
    value_set: ValueSet | None = None
    targets: frozenset[str] | None = None
    primitive: Primitive | None = None
    children: ElementMap | None = None
    content_ref: str | None = None
    invariants: InvariantSet | None = None  # R4 base invariants on each item (Organization.address)


@dataclass
class ElementMap:
    """The elements of one type or backbone element, choice variants expanded to JSON keys."""

    elements: dict[str, Element] = field(default_factory=dict)
    # (name for messages, JSON keys any of which satisfies min = 1)
    required: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)
    invariants: InvariantSet | None = None  # R4 base invariants on each object of this map


class Definitions:
    """Structures, value sets, primitives and the resource-type allow-list; maps built lazily."""

    def __init__(self, base_dir: Path = BASE_DIR) -> None:
        load = lambda name: orjson.loads((base_dir / name).read_bytes())  # noqa: E731
        self._structures: dict = load("structures.json")
        self.resource_types: frozenset[str] = frozenset(load("resource-types.json"))
        self.value_sets = {
            name: ValueSet(name, frozenset(vs["systems"]), frozenset(vs["codes"]))
            for name, vs in load("valuesets.json").items()
        }
        self.primitives = {
            name: Primitive(
                name,
                spec["json"],
                re.compile(spec["re"], re.ASCII) if "re" in spec else None,
                spec.get("min"),
                spec.get("max"),
            )
            for name, spec in load("primitives.json").items()
        }
        self._maps: dict[str, ElementMap] = {}

    def type_map(self, type_name: str) -> ElementMap | None:
        """Compiled element map of a resource or complex type, None if unknown."""
        cached = self._maps.get(type_name)
        if cached is None and type_name in self._structures:
            raw = self._structures[type_name]
            cached = self._compile(raw["el"], is_resource=raw["kind"] == "resource")
            self._resolve_content_refs(cached, cached)
            base_invariants().attach(type_name, cached, raw["kind"] == "resource")
            self._maps[type_name] = cached
        return cached

    def is_data_type(self, code: str) -> bool:
        """Whether `code` names an R4 primitive or complex data type (not a resource)."""
        raw = self._structures.get(code)
        return code in self.primitives or (raw is not None and raw["kind"] != "resource")

    def _compile(self, raw: dict, is_resource: bool = False) -> ElementMap:
        out = ElementMap()
        for name, spec in raw.items():
            if name.endswith("[x]"):
                base = name[:-3]
                keys = []
                for t in spec["t"]:
                    key = base + t[0].upper() + t[1:]
                    keys.append(key)
                    by_vs = spec.get("vs_by_type", {}).get(t)
                    by_to = spec.get("to_by_type", {}).get(t)
                    extra = {"vs": by_vs, "to": by_to}
                    out.elements[key] = self._element(key, t, {**spec, **extra}, name)
                if spec.get("min"):
                    out.required.append((name, tuple(keys)))
                continue
            # Element.id is a plain string in R4; only Resource.id has the `id` type's regex.
            if name == "id" and not is_resource:
                spec = {**spec, "t": "string"}
            out.elements[name] = self._element(name, spec["t"], spec, None)
            if spec.get("min"):
                out.required.append((name, (name,)))
        return out

    def _element(self, key: str, type_name: str, spec: dict, choice: str | None) -> Element:
        vs = self.value_sets.get(spec["vs"]) if spec.get("vs") else None
        return Element(
            key=key,
            type=type_name,
            is_list=spec.get("max") == "*",
            choice=choice,
            value_set=vs,
            targets=frozenset(spec["to"]) if spec.get("to") else None,
            primitive=self.primitives.get(type_name),
            children=self._compile(spec["el"]) if "el" in spec else None,
            content_ref=spec.get("cr"),
        )

    def _resolve_content_refs(self, root: ElementMap, current: ElementMap) -> None:
        """Point `contentReference` elements (Questionnaire.item.item) at their target map."""
        for element in current.elements.values():
            if element.content_ref:
                target: ElementMap | None = root
                for part in element.content_ref.split("."):
                    target = target.elements[part].children if target else None
                element.children = target
            elif element.children is not None:
                self._resolve_content_refs(root, element.children)


@functools.cache
def definitions() -> Definitions:
    """The one shared, lazily loaded Definitions."""
    return Definitions()
