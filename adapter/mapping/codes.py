"""The code lists under `mappings/`: membership, displays, properties and ConceptMap translations.

Files are read on first use and cached for the life of the process (no I/O at import time).
A code list is named by its CodeSystem `id` (e.g. `ld-referral-setting`), a map by its
ConceptMap `id`.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Equivalences under which a target code may stand beside the source code in one CodeableConcept:
# FHIR lets codings in one concept differ in granularity, but never narrow the meaning.
SAME_OR_WIDER = frozenset({"equal", "equivalent", "wider", "subsumes"})


@dataclass(frozen=True)
class Concept:
    """One code of a code list."""

    code: str
    display: str
    properties: Mapping[str, Any]


@dataclass(frozen=True)
class CodeList:
    """A CodeSystem reduced to what the adapter asks of it."""

    id: str
    url: str
    concepts: Mapping[str, Concept]


@dataclass(frozen=True)
class Target:
    """One ConceptMap target of a source code."""

    system: str
    code: str
    display: str | None
    equivalence: str


@dataclass(frozen=True)
class Terminology:
    """Everything loaded from `mappings/`."""

    code_lists: Mapping[str, CodeList]
    by_url: Mapping[str, CodeList]
    maps: Mapping[str, Mapping[str, tuple[Target, ...]]]
    urls: Mapping[str, str]


REPO_ROOT = Path(__file__).resolve().parents[2]
# Our code lists are published in the conformance package; local copies of other publishers'
# code systems (UK Core, HL7) stay under mappings/ so our package does not redefine them.
TERMINOLOGY_DIRS = (
    REPO_ROOT / "conformance" / "terminology",
    REPO_ROOT / "mappings" / "terminology",
)
# The screening answers' code lists live beside their Questionnaires; onward referrals use one.
QUESTIONNAIRE_CODE_SYSTEMS = REPO_ROOT / "conformance" / "questionnaires"


def mappings_dir() -> Path:
    """The repository's `mappings/` directory."""
    return REPO_ROOT / "mappings"


def terminology_files() -> list[Path]:
    """Every CodeSystem and ConceptMap file the adapter loads, ours first."""
    found = [path for folder in TERMINOLOGY_DIRS for path in sorted(folder.glob("*.json"))]
    return found + sorted(QUESTIONNAIRE_CODE_SYSTEMS.glob("CodeSystem-*.json"))


def _property_value(prop: dict) -> Any:
    for key, value in prop.items():
        if key.startswith("value"):
            return value
    return None


def _code_list(resource: dict) -> CodeList:
    concepts = {
        concept["code"]: Concept(
            code=concept["code"],
            display=concept.get("display", concept["code"]),
            properties={p["code"]: _property_value(p) for p in concept.get("property", ())},
        )
        for concept in resource.get("concept", ())
    }
    return CodeList(id=resource["id"], url=resource["url"], concepts=concepts)


def _concept_map(resource: dict) -> dict[str, tuple[Target, ...]]:
    targets: dict[str, list[Target]] = {}
    for group in resource.get("group", ()):
        for element in group.get("element", ()):
            found = targets.setdefault(element["code"], [])
            for target in element.get("target", ()):
                if "code" in target:
                    found.append(
                        Target(
                            group["target"],
                            target["code"],
                            target.get("display"),
                            target["equivalence"],
                        )
                    )
    return {code: tuple(found) for code, found in targets.items()}


def _flatten(tree: dict, prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in tree.items():
        if key.startswith("_"):
            continue
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


@functools.cache
def terminology() -> Terminology:
    """Load and cache every CodeSystem and ConceptMap in the terminology folders."""
    root = mappings_dir()
    code_lists: dict[str, CodeList] = {}
    maps: dict[str, dict[str, tuple[Target, ...]]] = {}
    for path in terminology_files():
        resource = json.loads(path.read_text(encoding="utf-8"))
        if resource["resourceType"] == "CodeSystem":
            code_lists[resource["id"]] = _code_list(resource)
        elif resource["resourceType"] == "ConceptMap":
            maps[resource["id"]] = _concept_map(resource)
    urls = _flatten(json.loads((root / "fhir-urls.json").read_text(encoding="utf-8")))
    by_url = {code_list.url: code_list for code_list in code_lists.values()}
    return Terminology(code_lists, by_url, maps, urls)


def code_list(name: str) -> CodeList:
    """The code list with this CodeSystem id; KeyError names a programming mistake."""
    return terminology().code_lists[name]


def has(name: str, code: object) -> bool:
    """True when code is a code of code list `name`."""
    return isinstance(code, str) and code in code_list(name).concepts


def codes(name: str) -> tuple[str, ...]:
    """All codes of a code list, in file order."""
    return tuple(code_list(name).concepts)


def display(name: str, code: str) -> str:
    """The display of a code."""
    return code_list(name).concepts[code].display


def system(name: str) -> str:
    """The canonical URL (coding system) of a code list."""
    return code_list(name).url


def prop(name: str, code: str, property_code: str) -> Any:
    """A property value of a code, or None."""
    return code_list(name).concepts[code].properties.get(property_code)


def coding(name: str, code: str) -> dict:
    """A new FHIR Coding for a code of a code list."""
    found = code_list(name)
    return {"system": found.url, "code": code, "display": found.concepts[code].display}


def code_from(name: str, codings: object) -> str | None:
    """The first code of code list `name` among FHIR codings, or None."""
    found = code_list(name)
    if not isinstance(codings, list):
        return None
    for item in codings:
        if isinstance(item, dict) and item.get("system") == found.url:
            code = item.get("code")
            if isinstance(code, str) and code in found.concepts:
                return code
    return None


def code_with_property(name: str, property_code: str, value: object) -> str | None:
    """The first code whose property equals value (e.g. a local identifier type by its system)."""
    for concept in code_list(name).concepts.values():
        if concept.properties.get(property_code) == value:
            return concept.code
    return None


def translate(map_name: str, code: str) -> tuple[Target, ...]:
    """The ConceptMap targets of a source code (empty when unmapped)."""
    return terminology().maps[map_name].get(code, ())


def reverse_translate(map_name: str, target_system: str, target_code: str) -> tuple[str, ...]:
    """Source codes that map to this target as an equal or equivalent concept."""
    return tuple(
        source
        for source, targets in terminology().maps[map_name].items()
        for target in targets
        if target.system == target_system
        and target.code == target_code
        and target.equivalence in ("equal", "equivalent")
    )


def url(key: str) -> str:
    """A URL from `mappings/fhir-urls.json` by dotted key, e.g. `extension.pathway-status`."""
    return terminology().urls[key]


def optional_url(key: str) -> str | None:
    """A URL from `mappings/fhir-urls.json`, or None when the key is not there."""
    return terminology().urls.get(key)
