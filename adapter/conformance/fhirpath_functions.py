"""FHIRPath functions of the compiled subset: each a factory from argument closures to a closure."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from adapter.conformance import fhirpath_values as fv
from adapter.conformance.fhirpath_values import EvalError, single, truth

Fn = Callable[[list, Any, dict], list]
Factory = Callable[[list], Fn]
# Functions whose first argument is evaluated per input item, with that item as $this.
LAMBDA_ARGS = frozenset({"where", "select", "all", "exists", "iif", "trace"})


# A key `value` + one of these type names is the choice element `value[x]`.
TYPE_SUFFIX = re.compile(
    r"Base64Binary|Boolean|Canonical|Code|Date|DateTime|Decimal|Id|Instant|Integer|Markdown|Oid|"
    r"PositiveInt|String|Time|UnsignedInt|Uri|Url|Uuid|Address|Age|Annotation|Attachment|"
    r"CodeableConcept|Coding|ContactPoint|Count|Distance|Duration|HumanName|Identifier|Money|"
    r"Period|Quantity|Range|Ratio|Reference|SampledData|Signature|Timing|ContactDetail|"
    r"Contributor|DataRequirement|Expression|ParameterDefinition|RelatedArtifact|"
    r"TriggerDefinition|UsageContext|Dosage|Meta"
)
INVARIANTS_FILE = Path(__file__).resolve().parents[2] / "conformance" / "base" / "invariants.json"


@functools.cache
def choice_names() -> frozenset[str]:
    """Names of R4 choice elements (`value` for value[x]): only these look for typed keys."""
    return frozenset(orjson.loads(INVARIANTS_FILE.read_bytes())["choice_names"])


class CompileError(Exception):
    """The expression uses something outside the compiled subset."""


def _arity(args: list, low: int, high: int, name: str) -> None:
    if not low <= len(args) <= high:
        raise CompileError(f"{name}() takes {low}..{high} arguments")


def _simple(name: str, apply: Callable[[list], list], arity: int = 0) -> Factory:
    """A function of its input collection only."""

    def factory(args: list) -> Fn:
        _arity(args, arity, arity, name)
        return lambda focus, this, env: apply(focus)

    return factory


def _string_fn(name: str, apply: Callable[..., Any], arity: int) -> Factory:
    """A function of one input string and literal-ish arguments; empty in, empty out."""

    def factory(args: list) -> Fn:
        _arity(args, arity, arity, name)

        def run(focus: list, this: Any, env: dict) -> list:
            text = single(focus)
            values = [single(a(focus, this, env)) for a in args]
            if text is None or any(v is None for v in values):
                return []
            if not isinstance(text, str):
                raise EvalError(f"{name}() needs a string")
            result = apply(text, *values)
            return [] if result is None else [result]

        return run

    return factory


def _where(args: list) -> Fn:
    _arity(args, 1, 1, "where")
    (crit,) = args
    return lambda focus, this, env: [i for i in focus if truth(crit([i], i, env)) is True]


def _select(args: list) -> Fn:
    _arity(args, 1, 1, "select")
    (proj,) = args
    return lambda focus, this, env: [r for i in focus for r in proj([i], i, env)]


def _all(args: list) -> Fn:
    _arity(args, 1, 1, "all")
    (crit,) = args
    return lambda focus, this, env: [all(truth(crit([i], i, env)) is True for i in focus)]


def _exists(args: list) -> Fn:
    _arity(args, 0, 1, "exists")
    if not args:
        return lambda focus, this, env: [bool(focus)]
    crit = args[0]
    return lambda focus, this, env: [any(truth(crit([i], i, env)) is True for i in focus)]


def _iif(args: list) -> Fn:
    _arity(args, 2, 3, "iif")
    crit, then, otherwise = args[0], args[1], args[2] if len(args) > 2 else None

    def run(focus: list, this: Any, env: dict) -> list:
        if truth(crit(focus, this, env)) is True:
            return then(focus, this, env)
        return otherwise(focus, this, env) if otherwise else []

    return run


def _trace(args: list) -> Fn:
    _arity(args, 1, 2, "trace")
    return lambda focus, this, env: focus  # tracing is for debugging: the input passes through


def _not(focus: list) -> list:
    value = truth(focus)
    return [] if value is None else [not value]


def _children_of(item: Any, skip_underscore: bool) -> list:
    out: list = []
    values = (
        item.items()
        if isinstance(item, dict)
        else enumerate(item)
        if isinstance(item, list)
        else ()
    )
    for k, value in values:
        if skip_underscore and isinstance(k, str) and k.startswith("_"):
            continue
        if isinstance(value, list):
            out.extend(value)
        else:
            out.append(value)
    return out


def _children(focus: list) -> list:
    return [c for i in focus for c in _children_of(i, True)]


def _descendants(focus: list) -> list:
    out: list = []
    level = [c for i in focus for c in _children_of(i, False)]
    while level:
        out.extend(level)
        level = [c for i in level for c in _children_of(i, False)]
    return out


def _has_value(focus: list) -> list:
    return [len(focus) == 1 and not isinstance(focus[0], dict | list)]


def _to_integer(focus: list) -> list:
    value = single(focus)
    if isinstance(value, bool):
        return [int(value)]
    if isinstance(value, int):
        return [value]
    if isinstance(value, str) and re.fullmatch(r"[+-]?\d+", value):
        return [int(value)]
    return []


def _to_string(focus: list) -> list:
    value = single(focus)
    if value is None or isinstance(value, dict):
        return []
    if isinstance(value, bool):
        return ["true" if value else "false"]
    return [str(value)]


def _substring(args: list) -> Fn:
    _arity(args, 1, 2, "substring")

    def run(focus: list, this: Any, env: dict) -> list:
        text, start = single(focus), single(args[0](focus, this, env))
        length = single(args[1](focus, this, env)) if len(args) > 1 else None
        if text is None or start is None:
            return []
        if not isinstance(text, str) or not isinstance(start, int):
            raise EvalError("substring() needs a string and an integer")
        if start < 0 or start >= len(text):
            return []
        return [text[start:] if length is None else text[start : start + max(length, 0)]]

    return run


def _collection_fn(name: str, apply: Callable[[list, list], list]) -> Factory:
    def factory(args: list) -> Fn:
        _arity(args, 1, 1, name)
        return lambda focus, this, env: apply(focus, args[0](focus, this, env))

    return factory


def _intersect(a: list, b: list) -> list:
    keys = {fv.key(v) for v in b}
    return [v for v in fv.distinct(a) if fv.key(v) in keys]


def _type_test(mode: str) -> Factory:
    """is/as/ofType against a resource type; FHIR data and primitive types need a model we skip."""

    def factory(names: list) -> Fn:
        from adapter.conformance.definitions import definitions

        if len(names) != 1 or names[0] not in definitions().resource_types:
            raise CompileError(f"{mode}() is compiled for resource types only")
        name = names[0]

        def test(item: Any) -> bool:
            return isinstance(item, dict) and item.get("resourceType") == name

        if mode == "is":
            return lambda focus, this, env: [] if not focus else [test(single(focus))]
        if mode == "as":
            return lambda focus, this, env: [i for i in focus[:1] if test(single(focus))]
        return lambda focus, this, env: [i for i in focus if test(i)]

    return factory


def choice_type_test(op: str, parent: Fn | None, key: str, choice: re.Pattern[str]) -> Fn:
    """`x is T` / `x as T` on choice element x: true when its JSON key is x + T (valueQuantity)."""

    def run(focus: list, this: Any, env: dict) -> list:
        found = []
        for item in parent(focus, this, env) if parent else focus:
            if isinstance(item, dict) and key in item:
                found.append((True, item[key]))
            elif isinstance(item, dict) and any(choice.fullmatch(k) for k in item):
                found.append((False, None))
        if not found:
            return []
        if len(found) > 1:
            raise EvalError(f"{op} needs one item")
        matched, value = found[0]
        if op == "is":
            return [matched]
        return [value] if matched and value is not None else []

    return run


FUNCTIONS: dict[str, Factory] = {
    "where": _where,
    "select": _select,
    "all": _all,
    "exists": _exists,
    "iif": _iif,
    "trace": _trace,
    "empty": _simple("empty", lambda f: [not f]),
    "count": _simple("count", lambda f: [len(f)]),
    "not": _simple("not", _not),
    "first": _simple("first", lambda f: f[:1]),
    "tail": _simple("tail", lambda f: f[1:]),
    "distinct": _simple("distinct", fv.distinct),
    "isDistinct": _simple("isDistinct", lambda f: [len(fv.distinct(f)) == len(f)]),
    "allFalse": _simple("allFalse", lambda f: [all(v is False for v in f)]),
    "allTrue": _simple("allTrue", lambda f: [all(v is True for v in f)]),
    "children": _simple("children", _children),
    "descendants": _simple("descendants", _descendants),
    "hasValue": _simple("hasValue", _has_value),
    "toInteger": _simple("toInteger", _to_integer),
    "toString": _simple("toString", _to_string),
    "substring": _substring,
    "startsWith": _string_fn("startsWith", lambda s, p: s.startswith(str(p)), 1),
    "endsWith": _string_fn("endsWith", lambda s, p: s.endswith(str(p)), 1),
    "contains": _string_fn("contains", lambda s, p: str(p) in s, 1),
    "length": _simple(
        "length", lambda f: [len(f[0])] if len(f) == 1 and isinstance(f[0], str) else []
    ),
    "matches": _string_fn("matches", lambda s, p: re.search(str(p), s, re.DOTALL) is not None, 1),
    "replaceMatches": _string_fn("replaceMatches", lambda s, p, r: re.sub(str(p), str(r), s), 2),
    "combine": _collection_fn("combine", lambda a, b: a + b),
    "union": _collection_fn("union", lambda a, b: fv.distinct(a + b)),
    "intersect": _collection_fn("intersect", _intersect),
    "is": _type_test("is"),
    "as": _type_test("as"),
    "ofType": _type_test("ofType"),
}
