"""The R4 base invariants of severity error (conformance/base/invariants.json), compiled once.

They are attached to the walker's element maps when a type's map is built, and each expression
is compiled by the FHIRPath subset in fhirpath.py when first evaluated. Those outside the subset,
or checked natively elsewhere, are listed in SKIPPED with the reason.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
from fhirpathpy.parser import parse

from adapter.conformance.fhirpath import (
    CONSTANTS,
    children_of,
    compile_expression,
    compile_node,
    identifier,
)
from adapter.conformance.fhirpath_functions import CompileError
from adapter.conformance.messages import issue
from adapter.errors import Issue

if TYPE_CHECKING:
    from adapter.conformance.definitions import ElementMap

INVARIANTS_FILE = Path(__file__).resolve().parents[2] / "conformance" / "base" / "invariants.json"
# key -> why it is not evaluated from its FHIRPath (see conformance/base/invariants.md).
SKIPPED = {
    "dom-3": "checked natively (contained_unreferenced): as(canonical|uri|url) needs FHIR types",
    "txt-1": "htmlChecks(): the narrative module checks the XHTML of Narrative.div",
    "txt-2": "htmlChecks(): the narrative module checks the XHTML of Narrative.div",
    "ctm-1": "resolve() and ofType() on a FHIR type: needs the referenced resource",
    "ref-1": "checked natively (references.py, LD-REF-CONTAINED-MISSING)",
    **{
        f"bdl-{n}": "checked natively (bundle.py, LD-BUNDLE-*)"
        for n in (1, 2, 3, 4, 5, 7, 8, 9, 10, 11, 12)
    },
}


@dataclass(frozen=True)
class Invariant:
    """One constraint: key, human text, and a check returning False when it is broken."""

    key: str
    expression: str
    human: str
    check: Callable[[Any, dict], bool | None]
    # The JSON keys it reads (None: it may read anything) and its verdict when none is present.
    triggers: frozenset[str] | None = None
    when_absent: bool | None = None
    # Name sets whose absence alone means it holds (`... or maxLength.empty()`: {maxLength}).
    passes_without: tuple[frozenset[str], ...] = ()

    @property
    def message_id(self) -> str:
        """Stable message id of this invariant's issues."""
        return f"FHIR-INV-{self.key}"

    def issue(self, path: str) -> Issue:
        """The error for an item at `path` that breaks this invariant."""
        return Issue(
            diagnostics=f"{self.key}: {self.human}",
            code="invariant",
            severity="error",
            expression=(path,) if path else (),
            message_id=self.message_id,
        )


@functools.cache
def compiled_check(expression: str) -> Callable[[Any, dict], bool | None]:
    """A FHIRPath expression as check(item, env): False when broken, None when it says nothing."""
    fn = compile_expression(expression)
    with_context = "%context" in expression

    def check(item: Any, env: dict) -> bool | None:
        result = fn([item], item, {**env, "context": item} if with_context else env)
        return None if not result else all(r is True for r in result)

    return check


def root_names(expression: str) -> frozenset[str] | None:
    """The element names an expression reads, when it reads the item only through them.

    None when it may look at the item another way ($this, %resource, a type name, a function
    with no receiver such as `hasValue()` or `descendants()`): then it must always be run.
    """
    return _names_of(parse(expression)["children"][0])


def _names_of(ast: dict) -> frozenset[str] | None:
    names: set[str] = set()

    def visit(n: dict, parent: str | None) -> bool:
        kind = n.get("type")
        if kind == "ThisInvocation" or (
            kind == "FunctionInvocation" and parent == "InvocationTerm"
        ):
            return False
        if kind == "ExternalConstant" and children_of(n)[0]["text"] not in CONSTANTS:
            return False
        if kind == "MemberInvocation":
            name = identifier(children_of(n)[0])
            if name[:1].isupper():
                return False
            names.add(name)
        return all(visit(c, kind) for c in children_of(n))

    return frozenset(names) if visit(ast, None) else None


def passing_sets(expression: str) -> list[frozenset[str]]:
    """Sets of element names: when none of one set is present, the invariant cannot be broken.

    `A or B` cannot be false when B is true or empty; `A implies B` when A is false or empty, or
    B true or empty. B "with its elements absent" is worked out once, on an empty object.
    """
    found = _passing(parse(expression)["children"][0], want_true=False)
    return sorted(set(found), key=sorted)


def _passing(n: dict, want_true: bool) -> list[frozenset[str]]:
    """Name sets whose absence makes `n` not false (or, with want_true, not true)."""
    kind, parts = n["type"], children_of(n)
    op = (n.get("terminalNodeText") or [""])[0]
    if kind in ("TermExpression", "ParenthesizedTerm") and parts[0]["type"] != "InvocationTerm":
        return _passing(parts[0], want_true)
    if not want_true and kind == "OrExpression" and op == "or":
        return _passing(parts[0], False) + _passing(parts[1], False)
    if not want_true and kind == "ImpliesExpression":
        return _passing(parts[0], True) + _passing(parts[1], False)
    if want_true and kind == "AndExpression":
        return _passing(parts[0], True) + _passing(parts[1], True)
    names = _names_of(n)
    if names is None:
        return []
    try:
        value = compile_node(n)([{}], {}, {})
    except Exception:  # not compiled or not judged on an empty object: no shortcut
        return []
    verdict = None if not value else value == [True]
    return [names] if verdict is not want_true else []


def lazy_check(expression: str) -> Callable[[Any, dict], bool | None]:
    """compiled_check, compiled on the first call (parsing costs ~5 ms; most never run)."""
    compiled: list[Callable[[Any, dict], bool | None]] = []

    def check(item: Any, env: dict) -> bool | None:
        if not compiled:
            compiled.append(compiled_check(expression))
        return compiled[0](item, env)

    return check


def contained_unreferenced(resource: Any, env: dict) -> bool | None:
    """dom-3: each contained resource is referenced ('#id') in the resource, or refers to '#'."""
    contained = resource.get("contained") if isinstance(resource, dict) else None
    if not isinstance(contained, list) or not contained:
        return True
    # FHIRPath looks in reference, canonical, uri and url values; we look in every string.
    strings = _strings(resource)
    for item in contained:
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            continue
        if "#" + item["id"] not in strings and "#" not in _strings(item):
            return False
    return True


def _strings(value: Any) -> set[str]:
    """Every string in a JSON value (references, canonicals and uris among them)."""
    found: set[str] = set()
    stack = [value]  # a stack, not recursion: one set filled, no list built per level
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            found.add(node)
        elif isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found


NATIVE: dict[str, Callable[[Any, dict], bool | None]] = {"dom-3": contained_unreferenced}
NATIVE_SHORTCUTS: dict[str, tuple[frozenset[str], bool]] = {
    "dom-3": (frozenset({"contained"}), True)
}


class BaseInvariants:
    """invariants.json indexed by path; compiled per path on first use."""

    def __init__(self, source: Path = INVARIANTS_FILE) -> None:
        raw = orjson.loads(source.read_bytes())
        self.paths: dict[str, list[list]] = raw["paths"]
        self.domain_types = frozenset(raw["domain"]["types"])
        self.domain_rows: list[list] = raw["domain"]["invariants"]
        self.unsupported: dict[str, str] = {}
        self.unattached: set[str] = set()  # paths the element maps do not have (a test watches)

    def compile_rows(self, rows: list[list], eager: bool = False) -> tuple[Invariant, ...]:
        """The rows we can evaluate faithfully; the others recorded in `unsupported`.

        Rows carry the shortcut (element names read, verdict when none is present) worked out
        by the build script, so an expression is parsed only when first evaluated; `eager`
        compiles now (tests, and rows without a stored shortcut).
        """
        out = []
        triggers: frozenset[str] | None
        verdict: bool | None
        for key, expression, human, *stored in rows:
            if key in NATIVE:
                out.append(Invariant(key, expression, human, NATIVE[key], *NATIVE_SHORTCUTS[key]))
                continue
            if key in SKIPPED:
                continue
            if stored and not eager:
                names, verdict, sets = stored
                triggers = None if names is None else frozenset(names)
                passing = tuple(frozenset(s) for s in sets)
                check = lazy_check(expression)
            else:
                try:
                    check = compiled_check(expression)
                except CompileError as exc:
                    self.unsupported[key] = str(exc)
                    continue
                triggers, verdict = shortcut(expression, check)
                passing = tuple(passing_sets(expression))
            out.append(Invariant(key, expression, human, check, triggers, verdict, passing))
        return tuple(out)

    def attach(self, type_name: str, cmap: ElementMap, is_resource: bool) -> None:
        """Give a type's element map, and its backbone maps, their invariants."""
        rows = list(self.paths.get(type_name, ()))
        if is_resource and type_name in self.domain_types:
            rows = self.domain_rows + rows
        cmap.invariants = _bind(self.compile_rows(rows), cmap)
        prefix = type_name + "."
        for path, path_rows in self.paths.items():
            if not path.startswith(prefix) or not (compiled := self.compile_rows(path_rows)):
                continue
            names = path[len(prefix) :].split(".")
            target = _backbone(cmap, names)
            if target is not None:
                target.invariants = _bind(compiled, target)
                continue
            # An element of a data or primitive type (Organization.address, ...max): per item.
            parent = _backbone(cmap, names[:-1])
            elements = [
                e
                for e in (parent.elements.values() if parent else ())
                if names[-1] in (e.key, e.choice)
            ]
            for element in elements:
                element.invariants = _bind(compiled, None)
            if not elements:
                self.unattached.add(path)


def shortcut(
    expression: str, check: Callable[[Any, dict], bool | None]
) -> tuple[frozenset[str] | None, bool | None]:
    """The element names an invariant reads, and its verdict on an object with none of them.

    (None, None) when it may read the object another way, or cannot judge an empty one.
    """
    names = root_names(expression)
    if names is None:
        return None, None
    try:
        verdict = check({}, {})
    except Exception:  # no shortcut then: the invariant runs on every object
        return None, None
    return names, verdict


@dataclass(frozen=True)
class InvariantSet:
    """The invariants of one element map, with a shortcut for objects they cannot look at."""

    items: tuple[Invariant, ...]
    triggers: frozenset[str] | None  # None: some invariant must always run
    absent_failing: tuple[Invariant, ...]  # those broken when none of their keys is present

    def evaluate(self, item: Any, env: dict, path: str) -> list[Issue]:
        """The issues of the invariants `item` breaks."""
        if self.triggers is not None and isinstance(item, dict) and self.triggers.isdisjoint(item):
            return [inv.issue(path) for inv in self.absent_failing]
        return evaluate(self.items, item, env, path)


def _bind(invariants: tuple[Invariant, ...], cmap: ElementMap | None) -> InvariantSet | None:
    """The set for this map: each invariant with the JSON keys it reads (value -> valueQuantity).

    Without a map (an element's own invariants) there is no shortcut: each runs on every item.
    """
    if not invariants:
        return None
    if cmap is None:
        unbound = tuple(replace(inv, triggers=None, passes_without=()) for inv in invariants)
        return InvariantSet(unbound, None, ())
    bound = []
    for inv in invariants:
        if inv.triggers is not None:
            inv = replace(inv, triggers=_json_keys(inv.triggers, cmap))
        passing = tuple(_json_keys(names, cmap) for names in inv.passes_without)
        bound.append(replace(inv, passes_without=passing))
    triggers = [inv.triggers for inv in bound]
    union = None if None in triggers else frozenset().union(*triggers)  # type: ignore[arg-type]
    failing = tuple(inv for inv in bound if inv.when_absent is False)
    return InvariantSet(tuple(bound), union, failing)


def _json_keys(names: frozenset[str], cmap: ElementMap) -> frozenset[str]:
    """Element names as the JSON keys that carry them here (value -> valueQuantity, ...)."""
    keys = {
        key
        for key, element in cmap.elements.items()
        if key in names or (element.choice or "")[:-3] in names
    }
    return frozenset(keys | names)


def _backbone(cmap: ElementMap, names: list[str]) -> ElementMap | None:
    target: ElementMap | None = cmap
    for name in names:
        element = target.elements.get(name) if target else None
        target = element.children if element else None
    return target


def evaluate(invariants: tuple[Invariant, ...], item: Any, env: dict, path: str) -> list[Issue]:
    """The issues of the invariants `item` breaks; one that cannot be evaluated says so (info)."""
    found = []
    for inv in invariants:
        if inv.triggers is not None and inv.triggers.isdisjoint(item):
            if inv.when_absent is False:
                found.append(inv.issue(path))
            continue
        if any(names.isdisjoint(item) for names in inv.passes_without):
            continue
        try:
            passed = inv.check(item, env)
        except RecursionError:
            raise  # the walker answers hostile nesting with LD-JSON-TOO-DEEP
        except Exception:  # EvalError, or a value of a type no invariant expects
            # Mostly malformed input, whose structure the walker reports; said, never guessed.
            why = f"the invariant {inv.key} could not be evaluated here ({inv.human})"
            found.append(issue("LD-INVARIANT-NOT-EVALUATED", path, why))
            continue
        if passed is False:
            found.append(inv.issue(path))
    return found


@functools.cache
def base_invariants() -> BaseInvariants:
    """The one shared BaseInvariants."""
    return BaseInvariants()
