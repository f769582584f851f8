"""Check a QuestionnaireResponse against its Questionnaire and report every problem as an Issue.

    index = load_questionnaire_index()                    # or QuestionnaireIndex(qs, terminology)
    issues = validate_questionnaire_response(response, index)

Checks: the Questionnaire and version exist; linkIds are known and sit where the Questionnaire puts
them; answers have the value[x] the item type takes and come from answerOption / answerValueSet
(expanded locally); required items that are enabled are answered; items enableWhen disables are
not answered; non-repeating items have one answer; groups and display items have none; calculated
items (SDC calculatedExpression) match the calculation. Two passes over the response: linear time.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import fhirpathpy
from fhirpathpy.models import models as fhirpath_models

from adapter.errors import Issue

# message_id -> (issue code, severity). Ids are a public contract: never rename one.
MESSAGES: dict[str, tuple[str, str]] = {
    "LD-QR-MALFORMED": ("structure", "error"),
    "LD-QR-NO-QUESTIONNAIRE": ("required", "error"),
    "LD-QR-UNKNOWN-QUESTIONNAIRE": ("not-found", "error"),
    "LD-QR-UNKNOWN-VERSION": ("not-found", "error"),
    "LD-QR-NO-LINKID": ("required", "error"),
    "LD-QR-UNKNOWN-LINKID": ("structure", "error"),
    "LD-QR-WRONG-PLACE": ("structure", "error"),
    "LD-QR-DUPLICATE-ITEM": ("structure", "error"),
    "LD-QR-ANSWER-NO-VALUE": ("required", "error"),
    "LD-QR-ANSWER-TYPE": ("value", "error"),
    "LD-QR-ANSWER-FORMAT": ("value", "error"),
    "LD-QR-ANSWER-NOT-IN-OPTIONS": ("code-invalid", "error"),
    "LD-QR-MULTIPLE-ANSWERS": ("structure", "error"),
    "LD-QR-GROUP-ANSWERED": ("structure", "error"),
    "LD-QR-DISPLAY-ANSWERED": ("structure", "error"),
    "LD-QR-REQUIRED-MISSING": ("required", "error"),
    "LD-QR-DISABLED-ANSWERED": ("business-rule", "error"),
    "LD-QR-CALCULATED-MISMATCH": ("business-rule", "warning"),
    "LD-QR-CALCULATION-FAILED": ("processing", "warning"),
}

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
FORMATS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "valueBoolean": (lambda v: isinstance(v, bool), "true or false"),
    "valueInteger": (lambda v: isinstance(v, int) and not isinstance(v, bool), "a whole number"),
    "valueDecimal": (
        lambda v: isinstance(v, int | float) and not isinstance(v, bool),
        "a number",
    ),
    "valueDate": (
        lambda v: isinstance(v, str) and re.fullmatch(r"\d{4}(-\d{2}(-\d{2})?)?", v) is not None,
        "a date (YYYY, YYYY-MM or YYYY-MM-DD)",
    ),
    "valueDateTime": (
        lambda v: (
            isinstance(v, str)
            and re.fullmatch(
                r"\d{4}(-\d{2}(-\d{2}(T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2}))?)?)?", v
            )
            is not None
        ),
        "a dateTime (a time needs seconds and a timezone)",
    ),
    "valueTime": (
        lambda v: isinstance(v, str) and re.fullmatch(r"\d{2}:\d{2}:\d{2}(\.\d+)?", v) is not None,
        "a time (hh:mm:ss)",
    ),
    "valueString": (lambda v: isinstance(v, str) and v != "", "a non-empty string"),
    "valueUri": (lambda v: isinstance(v, str) and v != "", "a URI"),
    "valueCoding": (lambda v: isinstance(v, dict), "a Coding object"),
    "valueQuantity": (lambda v: isinstance(v, dict), "a Quantity object"),
    "valueAttachment": (lambda v: isinstance(v, dict), "an Attachment object"),
    "valueReference": (lambda v: isinstance(v, dict), "a Reference object"),
}
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
        self._terminology = _Terminology(terminology)
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


class _Terminology:
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


def _compile_questionnaire(resource: dict, terminology: _Terminology) -> CompiledQuestionnaire:
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
    terminology: _Terminology,
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
    terminology: _Terminology,
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
    if not options:
        return
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


def _issue(message_id: str, path: str, diagnostics: str) -> Issue:
    code, severity = MESSAGES[message_id]
    return Issue(diagnostics, code, severity, (path,), message_id)


def _value_key(answer: dict) -> str | None:
    return next((k for k in answer if k.startswith("value")), None)


def _where(parent: str | None) -> str:
    return "at the top level" if parent is None else f"in '{parent}'"


def _compare(condition: Condition, key: str | None, value: Any) -> bool | None:
    """How one answer compares with the enableWhen answer: True/False, None if not comparable."""
    if key is None or key.replace("value", "answer", 1) != condition.key:
        return None
    expected = condition.expected
    if condition.key == "answerCoding":
        if not isinstance(value, dict):
            return None
        found: Any = (value.get("system"), value.get("code"))
        return _apply(condition.operator, found == expected, None)
    if condition.key == "answerQuantity":
        if not isinstance(value, dict) or (value.get("system"), value.get("code")) != expected[1:]:
            return None
        value, expected = value.get("value"), expected[0]
    if value is None or isinstance(value, bool) != isinstance(expected, bool):
        return None
    try:
        order = (value > expected) - (value < expected)
    except TypeError:
        return None
    return _apply(condition.operator, order == 0, order)


def _apply(operator: str, equal: bool, order: int | None) -> bool | None:
    if operator in ("=", "!="):
        return equal
    if order is None:
        return None
    return {">": order > 0, "<": order < 0, ">=": order >= 0, "<=": order <= 0}.get(operator)


class _Check:
    """One validation run over one response: collects answers, then walks and reports."""

    def __init__(self, questionnaire: CompiledQuestionnaire, response: dict, base: str) -> None:
        self.q = questionnaire
        self.response = response
        self.base = base
        self.issues: list[Issue] = []
        self.answers: dict[str, list[tuple[str | None, Any]]] = {}
        self.present: dict[str, str] = {}
        self.values: dict[str, tuple[str, Any]] = {}
        self._enabled: dict[str, bool] = {}

    def report(self, message_id: str, path: str, diagnostics: str) -> None:
        self.issues.append(_issue(message_id, path, diagnostics))

    def collect(self, items: Any) -> None:
        """First pass: every answer value by linkId, wherever it sits (enableWhen reads these)."""
        if not isinstance(items, list):
            return
        for item in items:
            if not isinstance(item, dict):
                continue
            answers = item.get("answer")
            if isinstance(answers, list) and item.get("linkId") in self.q.items:
                for answer in answers:
                    if isinstance(answer, dict):
                        key = _value_key(answer)
                        self.answers.setdefault(item["linkId"], []).append((key, answer.get(key)))
                        self.collect(answer.get("item"))
            self.collect(item.get("item"))

    def enabled(self, link_id: str) -> bool:
        """Whether enableWhen (and every ancestor's enableWhen) lets this item be answered."""
        known = self._enabled.get(link_id)
        if known is not None:
            return known
        self._enabled[link_id] = True  # a cycle in enableWhen is a Questionnaire bug: do not loop
        item = self.q.items[link_id]
        result = (item.parent is None or self.enabled(item.parent)) and self._holds(item)
        self._enabled[link_id] = result
        return result

    def _holds(self, item: ItemDef) -> bool:
        if not item.conditions:
            return True
        results = (self._condition(c) for c in item.conditions)
        return any(results) if item.behavior == "any" else all(results)

    def _condition(self, condition: Condition) -> bool:
        # An answer to a disabled question counts as no answer (R4 Questionnaire.item.enableWhen).
        answers = self.answers.get(condition.question, [])
        if answers and not self.enabled(condition.question):
            answers = []
        if condition.operator == "exists":
            return bool(answers) == condition.expected
        outcomes = [_compare(condition, key, value) for key, value in answers]
        if condition.operator == "!=":
            return not any(o is True for o in outcomes)  # "no answer equals": true when unanswered
        return any(o is True for o in outcomes)

    def walk(self, items: Any, parent: str | None, path: str, quiet: bool) -> None:
        """Second pass: check each item in place; `quiet` once a disabled ancestor is reported."""
        if items is None:
            return
        if not isinstance(items, list):
            self.report("LD-QR-MALFORMED", f"{path}.item", "item must be an array of items.")
            return
        seen: set[str] = set()
        for index, item in enumerate(items):
            item_path = f"{path}.item[{index}]"
            if not isinstance(item, dict):
                self.report("LD-QR-MALFORMED", item_path, "Each item must be an object.")
                continue
            link_id = item.get("linkId")
            if not isinstance(link_id, str):
                self.report("LD-QR-NO-LINKID", item_path, "The item has no linkId.")
                continue
            definition = self.q.items.get(link_id)
            if definition is None:
                self.report(
                    "LD-QR-UNKNOWN-LINKID",
                    f"{item_path}.linkId",
                    f"The linkId is not an item of {self.q.url}|{self.q.version}.",
                )
                continue
            if definition.parent != parent:
                self.report(
                    "LD-QR-WRONG-PLACE",
                    item_path,
                    f"Item '{link_id}' belongs {_where(definition.parent)} but was found "
                    f"{_where(parent)}.",
                )
            if link_id in seen and not definition.repeats:
                self.report(
                    "LD-QR-DUPLICATE-ITEM",
                    item_path,
                    f"Item '{link_id}' does not repeat but appears more than once here.",
                )
            seen.add(link_id)
            self.present.setdefault(link_id, item_path)
            self.check_item(definition, item, item_path, quiet)

    def check_item(self, definition: ItemDef, item: dict, path: str, quiet: bool) -> None:
        """Check one item against its definition, then its children."""
        link_id = definition.link_id
        answers = item.get("answer")
        if answers is not None and not isinstance(answers, list):
            self.report("LD-QR-MALFORMED", f"{path}.answer", "answer must be an array.")
            answers = None
        answers = answers or []
        if definition.type == "display":
            if answers or item.get("item"):
                where = f"{path}.answer[0]" if answers else f"{path}.item[0]"
                self.report(
                    "LD-QR-DISPLAY-ANSWERED",
                    where,
                    f"Item '{link_id}' is display text and takes no answers or child items.",
                )
            return
        if not quiet and not self.enabled(link_id) and (answers or item.get("item")):
            self.report(
                "LD-QR-DISABLED-ANSWERED",
                path,
                f"Item '{link_id}' is disabled by its enableWhen conditions (or a parent's) "
                "given the other answers, so it must not be answered.",
            )
            quiet = True
        if definition.type == "group":
            if answers:
                self.report(
                    "LD-QR-GROUP-ANSWERED",
                    f"{path}.answer[0]",
                    f"Item '{link_id}' is a group: it holds items and takes no answers.",
                )
            self.walk(item.get("item"), link_id, path, quiet)
            return
        if len(answers) > 1 and not definition.repeats:
            self.report(
                "LD-QR-MULTIPLE-ANSWERS",
                f"{path}.answer[1]",
                f"Item '{link_id}' does not repeat: one answer expected, found {len(answers)}.",
            )
        for index, answer in enumerate(answers):
            self.check_answer(definition, answer, f"{path}.answer[{index}]", quiet)
        if item.get("item"):
            # Children of a question belong under its answers, never beside them.
            self.walk(item.get("item"), f"{link_id} (beside its answers)", path, quiet)

    def check_answer(self, definition: ItemDef, answer: Any, path: str, quiet: bool) -> None:
        """Check one answer's value[x] type, format and option membership."""
        link_id = definition.link_id
        if not isinstance(answer, dict):
            self.report("LD-QR-MALFORMED", path, "Each answer must be an object.")
            return
        key = _value_key(answer)
        expected = " or ".join(sorted(definition.value_keys))
        if key is None:
            self.report(
                "LD-QR-ANSWER-NO-VALUE",
                path,
                f"The answer to '{link_id}' has no value; expected {expected}.",
            )
        elif key not in definition.value_keys:
            self.report(
                "LD-QR-ANSWER-TYPE",
                f"{path}.{key}",
                f"Item '{link_id}' is of type {definition.type} and takes {expected}; "
                f"found {key[:40]}.",
            )
        else:
            self._check_value(definition, key, answer[key], f"{path}.{key}")
        self.walk(answer.get("item"), link_id, path, quiet)

    def _check_value(self, definition: ItemDef, key: str, value: Any, path: str) -> None:
        test, wanted = FORMATS[key]
        if not test(value):
            self.report(
                "LD-QR-ANSWER-FORMAT",
                path,
                f"{key} of item '{definition.link_id}' must be {wanted}; found something else.",
            )
            return
        self.values.setdefault(definition.link_id, (path, value))
        if key == "valueCoding" and definition.codings is not None:
            if (value.get("system"), value.get("code")) not in definition.codings:
                self.report(
                    "LD-QR-ANSWER-NOT-IN-OPTIONS",
                    path,
                    f"The code answering '{definition.link_id}' must come from "
                    f"{definition.options_from}; the system and code found are not in it.",
                )
        elif (
            definition.primitive_options is not None
            and key != "valueString"
            and (key, value) not in definition.primitive_options
        ):
            self.report(
                "LD-QR-ANSWER-NOT-IN-OPTIONS",
                path,
                f"The answer to '{definition.link_id}' must be one of "
                f"{definition.options_from}; the value found is not.",
            )

    def check_required(self, link_ids: list[str], parent_path: str) -> None:
        """Report enabled required items left unanswered; an absent optional group excuses them."""
        for link_id in link_ids:
            definition = self.q.items[link_id]
            if definition.type == "display" or not self.enabled(link_id):
                continue
            present = self.present.get(link_id)
            if definition.type == "group":
                if present is not None:
                    self.check_required(definition.children, present)
                    continue
                missing = definition.required
            else:
                missing = definition.required and not any(
                    key is not None for key, _ in self.answers.get(link_id, [])
                )
            if missing:
                self.report(
                    "LD-QR-REQUIRED-MISSING",
                    parent_path,
                    f"Required {'group' if definition.type == 'group' else 'item'} "
                    f"'{link_id}' is enabled but has no answer {_where(definition.parent)}.",
                )

    def check_calculations(self) -> None:
        """Warn when an answered calculated item differs from its calculatedExpression."""
        for link_id, definition in self.q.items.items():
            if definition.calculation is None or link_id not in self.values:
                continue
            if not self.enabled(link_id):
                continue
            path, given = self.values[link_id]
            context = {"resource": self.response, "questionnaire": self.q.resource}
            try:
                result = definition.calculation(self.response, context)
            except Exception:  # a third-party evaluator over untrusted input: never a 500
                self.report(
                    "LD-QR-CALCULATION-FAILED",
                    path,
                    f"The calculation for '{link_id}' could not be evaluated on this response.",
                )
                continue
            expected = result[0] if result else None
            if not isinstance(expected, int | float) or float(given) != float(expected):
                self.report(
                    "LD-QR-CALCULATED-MISMATCH",
                    path,
                    f"Item '{link_id}' does not equal the value its calculatedExpression gives "
                    "for the answers in this response.",
                )


def validate_questionnaire_response(
    response: dict, questionnaires: QuestionnaireIndex, base_path: str = "QuestionnaireResponse"
) -> list[Issue]:
    """Every way this QuestionnaireResponse departs from its Questionnaire, as Issues."""
    if not isinstance(response, dict):
        return [_issue("LD-QR-MALFORMED", base_path, "A QuestionnaireResponse must be an object.")]
    canonical = response.get("questionnaire")
    if not isinstance(canonical, str) or not canonical:
        return [
            _issue(
                "LD-QR-NO-QUESTIONNAIRE",
                f"{base_path}.questionnaire",
                "questionnaire must name the canonical url (and version) the response answers.",
            )
        ]
    questionnaire = questionnaires.get(canonical)
    if questionnaire is None:
        url = canonical.split("|", 1)[0]
        if questionnaires.knows_url(url):
            message_id = "LD-QR-UNKNOWN-VERSION"
            text = (
                f"names a version of {url} that is not known; known: {questionnaires.versions(url)}"
            )
        else:
            message_id, text = "LD-QR-UNKNOWN-QUESTIONNAIRE", "names a Questionnaire not known here"
        return [_issue(message_id, f"{base_path}.questionnaire", f"questionnaire {text}.")]
    check = _Check(questionnaire, response, base_path)
    check.collect(response.get("item"))
    check.walk(response.get("item"), TOP_LEVEL, base_path, quiet=False)
    if response.get("status") in ("completed", "amended"):
        check.check_required(questionnaire.top, base_path)
    check.check_calculations()
    return check.issues
