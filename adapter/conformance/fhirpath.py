"""A compiled FHIRPath subset: each expression parsed once (fhirpathpy's parser) into closures.

An expression compiles to `fn(focus, this, env) -> list` over raw JSON (dicts, lists, str, numbers,
bools); `env` holds `resource` and `rootResource`. What the subset cannot answer faithfully
(resolve(), htmlChecks(), type tests other than on choice elements and resources) raises
CompileError at compile time, never a wrong answer at run time; a value it cannot handle raises
EvalError.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from fhirpathpy.parser import parse

from adapter.conformance import fhirpath_values as fv
from adapter.conformance.fhirpath_functions import (
    FUNCTIONS,
    LAMBDA_ARGS,
    TYPE_SUFFIX,
    CompileError,
    choice_names,
    choice_type_test,
)

Fn = Callable[[list, Any, dict], list]
CONSTANTS = {"ucum": "http://unitsofmeasure.org", "sct": "http://snomed.info/sct"}


def compile_node(ast: dict) -> Fn:
    """One node of fhirpathpy's syntax tree as a closure (a part of an expression)."""
    return _node(ast)


def compile_expression(expression: str) -> Fn:
    """The expression as a closure; CompileError when outside the subset."""
    try:
        ast = parse(expression)
    except Exception as exc:  # the ANTLR parser raises its own error types
        raise CompileError(f"does not parse: {exc}") from exc
    return _node(ast["children"][0])


def _node(n: dict) -> Fn:
    kind = n["type"]
    handler = _HANDLERS.get(kind)
    if handler is None:
        raise CompileError(f"{kind} is not supported")
    return handler(n)


def children_of(n: dict) -> list[dict]:
    return n.get("children", [])


def _term(n: dict) -> Fn:
    return _node(children_of(n)[0])


def _invocation_term(n: dict) -> Fn:
    return _invocation(children_of(n)[0])


def _invocation_expression(n: dict) -> Fn:
    left, right = (_node(children_of(n)[0]), _invocation(children_of(n)[1]))

    def run(focus: list, this: Any, env: dict) -> list:
        return right(left(focus, this, env), this, env)

    return run


def _invocation(n: dict) -> Fn:
    kind = n["type"]
    if kind == "MemberInvocation":
        return _member(identifier(children_of(n)[0]))
    if kind == "FunctionInvocation":
        return _function(children_of(n)[0])
    if kind == "ThisInvocation":
        return lambda focus, this, env: [this]
    raise CompileError(f"{kind} is not supported")


def identifier(n: dict) -> str:
    return str(n["text"]).strip("`")


def _member(name: str) -> Fn:
    choice = re.compile(re.escape(name) + f"(?:{TYPE_SUFFIX.pattern})")
    is_type = name[:1].isupper()
    may_be_choice = name in choice_names()

    def run(focus: list, this: Any, env: dict) -> list:
        out: list = []
        for item in focus:
            if not isinstance(item, dict):
                continue
            if is_type and item.get("resourceType") == name:
                out.append(item)
                continue
            value = item.get(name)
            if value is None and may_be_choice:
                value = next((v for k, v in item.items() if choice.fullmatch(k)), None)
            if isinstance(value, list):
                out.extend(v for v in value if v is not None)
            elif value is not None:
                out.append(value)
        return out

    return run


def _function(n: dict) -> Fn:
    name = identifier(children_of(n)[0])
    params = children_of(children_of(n)[1]) if len(children_of(n)) > 1 else []
    factory = FUNCTIONS.get(name)
    if factory is None:
        raise CompileError(f"function {name}() is not supported")
    if name in ("is", "as", "ofType"):
        return factory([_type_name(p) for p in params])
    args = [_node(p) for p in params]
    if name in LAMBDA_ARGS:
        return factory(args)
    return factory([_argument(a) for a in args])


def _argument(arg: Fn) -> Fn:
    """A plain argument is evaluated against $this, not the function's input."""
    return lambda focus, this, env: arg([this], this, env)


def _type_name(n: dict) -> str:
    return str(n["text"]).removeprefix("FHIR.").strip("`")


def _literal(n: dict) -> Fn:
    inner = children_of(n)[0]
    kind, text = inner["type"], str(inner["text"])
    value: Any
    if kind == "StringLiteral":
        value = re.sub(
            r"\\(.)", lambda m: {"n": "\n", "t": "\t", "r": "\r"}.get(m[1], m[1]), text[1:-1]
        )
    elif kind == "NumberLiteral":
        value = float(text) if "." in text else int(text)
    elif kind == "BooleanLiteral":
        value = text == "true"
    elif kind == "NullLiteral":
        return Constant([])
    else:
        raise CompileError(f"{kind} is not supported")
    return Constant([value])


class Constant:
    """A closure whose value is known at compile time (literals, unions of literals)."""

    def __init__(self, value: list) -> None:
        self.value = value

    def __call__(self, focus: list, this: Any, env: dict) -> list:
        return self.value  # never mutated: every operation builds a new list


def _external(n: dict) -> Fn:
    name = str(children_of(children_of(n)[0])[0]["text"]).strip("`'")
    if name in ("resource", "rootResource", "context"):
        return lambda focus, this, env: [env[name]]
    if name in CONSTANTS:
        value = CONSTANTS[name]
        return lambda focus, this, env: [value]
    raise CompileError(f"%{name} is not supported")


def _binary(n: dict) -> tuple[str, Fn, Fn]:
    op = n["terminalNodeText"][0]
    return op, _node(children_of(n)[0]), _node(children_of(n)[1])


def _logic(n: dict) -> Fn:
    op, left, right = _binary(n)
    combine = fv.LOGIC[op]

    def run(focus: list, this: Any, env: dict) -> list:
        a = fv.truth(left(focus, this, env))
        if (op == "and" and a is False) or (op == "or" and a is True):
            return [a]
        if op == "implies" and a is False:
            return [True]
        result = combine(a, fv.truth(right(focus, this, env)))
        return [] if result is None else [result]

    return run


def _equality(n: dict) -> Fn:
    op, left, right = _binary(n)
    if op not in ("=", "!="):
        raise CompileError(f"operator {op} is not supported")

    def run(focus: list, this: Any, env: dict) -> list:
        result = fv.equals(left(focus, this, env), right(focus, this, env))
        return [not result[0]] if result and op == "!=" else result

    return run


def _inequality(n: dict) -> Fn:
    op, left, right = _binary(n)
    test = fv.ORDER[op]

    def run(focus: list, this: Any, env: dict) -> list:
        order = fv.compare(left(focus, this, env), right(focus, this, env))
        return [] if order is None else [test(order)]

    return run


def _arithmetic(n: dict) -> Fn:
    op, left, right = _binary(n)
    apply = fv.ARITHMETIC.get(op)
    if apply is None:
        raise CompileError(f"operator {op} is not supported")
    return lambda focus, this, env: apply(left(focus, this, env), right(focus, this, env))


def _union(n: dict) -> Fn:
    _, left, right = _binary(n)
    if isinstance(left, Constant) and isinstance(right, Constant):
        return Constant(fv.distinct(left.value + right.value))
    return lambda focus, this, env: fv.distinct(left(focus, this, env) + right(focus, this, env))


def _membership(n: dict) -> Fn:
    op, left, right = _binary(n)
    if op == "contains":
        left, right = right, left
    if isinstance(right, Constant):  # `type in ('a' | 'b')`: a set lookup
        keys = {fv.key(v) for v in right.value}

        def lookup(focus: list, this: Any, env: dict) -> list:
            item = fv.single(left(focus, this, env))
            return [] if item is None else [fv.key(item) in keys]

        return lookup

    def run(focus: list, this: Any, env: dict) -> list:
        item = fv.single(left(focus, this, env))
        if item is None:
            return []
        return [any(fv.equal(item, other) for other in right(focus, this, env))]

    return run


def _type_expression(n: dict) -> Fn:
    op, (operand, type_node) = n["terminalNodeText"][0], children_of(n)
    type_name = _type_name(type_node)
    parts = children_of(operand)
    if operand["type"] == "TermExpression" and parts[0]["type"] == "InvocationTerm":
        parent, member = None, children_of(parts[0])[0]
    elif operand["type"] == "InvocationExpression":
        parent, member = _node(parts[0]), parts[1]
    else:
        parent, member = None, None
    name = (
        identifier(children_of(member)[0])
        if member and member["type"] == "MemberInvocation"
        else ""
    )
    if name in choice_names() and type_name[:1].isalpha():
        # `value is Quantity` on a choice element: which of its typed JSON keys is present
        choice = re.compile(re.escape(name) + f"(?:{TYPE_SUFFIX.pattern})")
        return choice_type_test(op, parent, name + type_name[0].upper() + type_name[1:], choice)
    inner = _node(operand)
    test = FUNCTIONS[op]([type_name])
    return lambda focus, this, env: test(inner(focus, this, env), this, env)


def _indexer(n: dict) -> Fn:
    coll, index = _node(children_of(n)[0]), _node(children_of(n)[1])

    def run(focus: list, this: Any, env: dict) -> list:
        items, at = coll(focus, this, env), fv.single(index(focus, this, env))
        return [items[at]] if isinstance(at, int) and 0 <= at < len(items) else []

    return run


def _polarity(n: dict) -> Fn:
    inner = _node(children_of(n)[0])
    sign = -1 if n["terminalNodeText"][0] == "-" else 1

    def run(focus: list, this: Any, env: dict) -> list:
        value = fv.single(inner(focus, this, env))
        if value is None:
            return []
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise fv.EvalError("polarity needs a number")
        return [sign * value]

    return run


_HANDLERS: dict[str, Callable[[dict], Fn]] = {
    "TermExpression": _term,
    "ParenthesizedTerm": _term,
    "InvocationTerm": _invocation_term,
    "InvocationExpression": _invocation_expression,
    "LiteralTerm": _literal,
    "ExternalConstantTerm": _external,
    "OrExpression": _logic,
    "AndExpression": _logic,
    "ImpliesExpression": _logic,
    "EqualityExpression": _equality,
    "InequalityExpression": _inequality,
    "AdditiveExpression": _arithmetic,
    "MultiplicativeExpression": _arithmetic,
    "UnionExpression": _union,
    "MembershipExpression": _membership,
    "TypeExpression": _type_expression,
    "IndexerExpression": _indexer,
    "PolarityExpression": _polarity,
}
