"""A Questionnaire compiled into lookups: item definitions by linkId, options, calculations.

    index = load_questionnaire_index()                    # or QuestionnaireIndex(qs, terminology)
    questionnaire = index.get("https://…/Questionnaire/ld-screening|1.0.0")

Building the index expands every answerValueSet locally and compiles every calculatedExpression
once, so a broken Questionnaire fails when it is loaded, not when a response is checked.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import fhirpathpy
from fhirpathpy.models import models as fhirpath_models

from adapter.conformance.questionnaire_terminology import LocalTerminology

REPO_ROOT = Path(__file__).resolve().parents[2]
# Answer lists shared with the referral mapping live in the terminology folders; a missing folder is
# skipped, and an unexpandable answerValueSet then fails loudly when the index is built.
DEFAULT_DIRECTORIES = (
    REPO_ROOT / "conformance" / "questionnaires",
    REPO_ROOT / "conformance" / "terminology",
    REPO_ROOT / "mappings" / "terminology",
)
CALCULATED_EXPRESSION = (
    "http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-calculatedExpression"
)
ORDINAL_VALUE = "http://hl7.org/fhir/StructureDefinition/ordinalValue"
# Which answer value[x] each R4 item type takes (choice items with non-Coding options widen this).
TYPE_VALUES: dict[str, frozenset[str]] = {
    "boolean": frozenset({"valueBoolean"}),
    "decimal": frozenset({"valueDecimal"}),
    "integer": frozenset({"valueInteger"}),
    "date": frozenset({"valueDate"}),
    "dateTime": frozenset({"valueDateTime"}),
    "time": frozenset({"valueTime"}),
    "string": frozenset({"valueString"}),
    "text": frozenset({"valueString"}),
    "url": frozenset({"valueUri"}),
    "choice": frozenset({"valueCoding"}),
    "open-choice": frozenset({"valueCoding", "valueString"}),
    "attachment": frozenset({"valueAttachment"}),
    "reference": frozenset({"valueReference"}),
    "quantity": frozenset({"valueQuantity"}),
}
STRUCTURAL_TYPES = frozenset({"group", "display"})
TOP_LEVEL = None


@dataclass(frozen=True)
class Condition:
    """One enableWhen: the question it reads, the operator and the answer it compares with."""

    question: str
    operator: str
    key: str  # the answer[x] key, e.g. answerCoding
    expected: Any


@dataclass
class ItemDef:
    """What the Questionnaire says about one linkId."""

    link_id: str
    type: str
    parent: str | None
    text: str = ""
    required: bool = False
    repeats: bool = False
    conditions: tuple[Condition, ...] = ()
    behavior: str = "all"
    value_keys: frozenset[str] = frozenset()
    codings: frozenset[tuple[str | None, str]] | None = None
    options_from: str = ""
    primitive_options: frozenset[tuple[str, Any]] | None = None
    calculation: Callable[..., Any] | None = None
    children: list[str] = field(default_factory=list)


@dataclass
class CompiledQuestionnaire:
    """A Questionnaire turned into lookups: item definitions by linkId and the top-level order."""

    url: str
    version: str
    resource: dict
    items: dict[str, ItemDef]
    top: list[str]


def _version_key(version: str) -> tuple[tuple[int, int | str], ...]:
    """Sort key that orders 1.10.0 after 1.9.0."""
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in re.split(r"[.\-]", version))


class QuestionnaireIndex:
    """Questionnaires by canonical url|version and by url alone (the latest version)."""

    def __init__(self, questionnaires: Iterable[dict], terminology: Iterable[dict] = ()) -> None:
        self._terminology = LocalTerminology(terminology)
        self._by_canonical: dict[str, CompiledQuestionnaire] = {}
        self._latest: dict[str, CompiledQuestionnaire] = {}
        for resource in questionnaires:
            compiled = _compile_questionnaire(resource, self._terminology)
            self._by_canonical[f"{compiled.url}|{compiled.version}"] = compiled
            latest = self._latest.get(compiled.url)
            if latest is None or _version_key(compiled.version) > _version_key(latest.version):
                self._latest[compiled.url] = compiled

    def get(self, canonical: str) -> CompiledQuestionnaire | None:
        """The Questionnaire for `url|version`, or the latest version for a bare `url`."""
        if "|" in canonical:
            return self._by_canonical.get(canonical)
        return self._latest.get(canonical)

    def knows_url(self, url: str) -> bool:
        """Whether any version of this Questionnaire is loaded."""
        return url in self._latest

    def versions(self, url: str) -> str:
        """The loaded versions of a Questionnaire, comma-separated, oldest first."""
        found = [c.split("|", 1)[1] for c in self._by_canonical if c.split("|", 1)[0] == url]
        return ", ".join(sorted(found, key=_version_key))


def load_questionnaire_index(
    directories: Iterable[Path] = DEFAULT_DIRECTORIES,
) -> QuestionnaireIndex:
    """Read Questionnaire, ValueSet and CodeSystem JSON files from directories into an index."""
    questionnaires: list[dict] = []
    terminology: list[dict] = []
    for directory in directories:
        for path in sorted(Path(directory).glob("*.json")):
            resource = json.loads(path.read_text(encoding="utf-8"))
            kind = resource.get("resourceType")
            if kind == "Questionnaire":
                questionnaires.append(resource)
            elif kind in ("ValueSet", "CodeSystem"):
                terminology.append(resource)
    return QuestionnaireIndex(questionnaires, terminology)


def _compile_questionnaire(resource: dict, terminology: LocalTerminology) -> CompiledQuestionnaire:
    """Index a Questionnaire's items; ValueError when it is unusable (a Questionnaire bug)."""
    items: dict[str, ItemDef] = {}
    weights: dict[tuple[str | None, str], float] = {}
    calculations: dict[str, str] = {}
    top = _compile_items(
        resource.get("item", []), TOP_LEVEL, items, weights, calculations, terminology
    )
    for item in items.values():
        for condition in item.conditions:
            if condition.question not in items:
                raise ValueError(
                    f"enableWhen of {item.link_id} names unknown item {condition.question}"
                )
    for link_id, expression in calculations.items():
        items[link_id].calculation = _compile_calculation(expression, weights)
    return CompiledQuestionnaire(resource["url"], resource.get("version", ""), resource, items, top)


def _compile_items(
    raw_items: list[dict],
    parent: str | None,
    items: dict[str, ItemDef],
    weights: dict[tuple[str | None, str], float],
    calculations: dict[str, str],
    terminology: LocalTerminology,
) -> list[str]:
    """Add each item (and its children) to `items`; return the linkIds at this level."""
    level = []
    for raw in raw_items:
        link_id = raw["linkId"]
        if link_id in items:
            raise ValueError(f"linkId {link_id} appears twice in the Questionnaire")
        item = ItemDef(
            link_id=link_id,
            type=raw["type"],
            parent=parent,
            text=raw.get("text", ""),
            required=raw.get("required", False),
            repeats=raw.get("repeats", False),
            conditions=tuple(_condition(c) for c in raw.get("enableWhen", [])),
            behavior=raw.get("enableBehavior", "all"),
        )
        _compile_answers(item, raw, weights, terminology)
        for extension in raw.get("extension", []):
            if extension.get("url") == CALCULATED_EXPRESSION:
                calculations[link_id] = extension["valueExpression"]["expression"]
        items[link_id] = item
        level.append(link_id)
        item.children = _compile_items(
            raw.get("item", []), link_id, items, weights, calculations, terminology
        )
    return level


def _condition(raw: dict) -> Condition:
    """An enableWhen element as a Condition."""
    key = next(k for k in raw if k.startswith("answer"))
    expected = raw[key]
    if key == "answerCoding":
        expected = (expected.get("system"), expected.get("code"))
    elif key == "answerQuantity":
        expected = (expected.get("value"), expected.get("system"), expected.get("code"))
    return Condition(raw["question"], raw["operator"], key, expected)


def _compile_answers(
    item: ItemDef,
    raw: dict,
    weights: dict[tuple[str | None, str], float],
    terminology: LocalTerminology,
) -> None:
    """Fill in the value[x] keys an item accepts and the options its answers must come from."""
    if item.type in STRUCTURAL_TYPES:
        return
    if item.type not in TYPE_VALUES:
        raise ValueError(f"item {item.link_id} has unsupported type {item.type}")
    item.value_keys = TYPE_VALUES[item.type]
    if "answerValueSet" in raw:
        item.codings = terminology.expand(raw["answerValueSet"])
        item.options_from = f"ValueSet {raw['answerValueSet']}"
    options = raw.get("answerOption", [])
    if options:
        _compile_options(item, options, weights)


def _compile_options(
    item: ItemDef, options: list[dict], weights: dict[tuple[str | None, str], float]
) -> None:
    """Restrict an item to its answerOption list, noting each coded option's ordinal weight."""
    item.options_from = "its answerOption list"
    codings = set()
    primitives = set()
    for option in options:
        key = next(k for k in option if k.startswith("value"))
        if key == "valueCoding":
            pair = (option[key].get("system"), option[key]["code"])
            codings.add(pair)
            for extension in option.get("extension", []):
                if extension.get("url") == ORDINAL_VALUE:
                    weights[pair] = extension["valueDecimal"]
        else:
            primitives.add((key, option[key]))
    item.codings = frozenset(codings)
    if primitives:
        item.primitive_options = frozenset(primitives)
        item.value_keys = item.value_keys | {k for k, _ in primitives}
        if item.type == "choice" and not codings:
            item.value_keys = frozenset(k for k, _ in primitives)


def _compile_calculation(
    expression: str, weights: dict[tuple[str | None, str], float]
) -> Callable[..., Any]:
    """Compile a calculatedExpression once, with SDC ordinal() (R5: weight()) over answerOptions."""

    def ordinal(codings: list[Any]) -> list[float]:
        pairs: list[Any] = [
            (c.get("system"), c.get("code")) for c in codings if isinstance(c, dict)
        ]
        return [weights[pair] for pair in pairs if pair in weights]

    table = {name: {"fn": ordinal, "arity": {0: []}} for name in ("ordinal", "weight")}
    return fhirpathpy.compile(
        expression, model=fhirpath_models["r4"], options={"userInvocationTable": table}
    )
