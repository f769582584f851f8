"""FHIRPath value semantics over raw JSON: truth, equality, ordering, dates and quantities."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import orjson

DATE_LIKE = re.compile(
    r"(\d{4})(?:-(\d\d)(?:-(\d\d)(?:T(\d\d)(?::(\d\d)(?::(\d\d)(\.\d+)?)?)?"
    r"(Z|[+-]\d\d:\d\d)?)?)?)?"
)


class EvalError(Exception):
    """The expression cannot be evaluated on this input (e.g. many items where one is due)."""


def truth(coll: list) -> bool | None:
    """Singleton evaluation to boolean: empty is None, one non-boolean item is true."""
    if not coll:
        return None
    if len(coll) > 1:
        raise EvalError("a boolean needs one item")
    value = coll[0]
    return value if isinstance(value, bool) else True


def single(coll: list) -> Any:
    """The one item of a collection; None when empty."""
    if not coll:
        return None
    if len(coll) > 1:
        raise EvalError("one item expected")
    return coll[0]


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "b"
    if isinstance(value, int | float):
        return "n"
    if isinstance(value, str):
        return "s"
    return "o"


NUMBER_TYPES = (int, float)


def equal(a: Any, b: Any) -> bool:
    """Item equality: same kind and value (booleans are not numbers), objects deeply."""
    ta, tb = type(a), type(b)
    if ta is tb or (ta in NUMBER_TYPES and tb in NUMBER_TYPES):
        return bool(a == b)
    return False


def key(value: Any) -> Any:
    """A hashable identity for distinct/union: kind plus value (objects as canonical JSON)."""
    kind = _kind(value)
    if kind == "o":
        return (kind, orjson.dumps(value, option=orjson.OPT_SORT_KEYS))
    return (kind, value)


def distinct(coll: list) -> list:
    """Items in order with later duplicates removed."""
    seen: set = set()
    out = []
    for item in coll:
        k = key(item)
        if k not in seen:
            seen.add(k)
            out.append(item)
    return out


def equals(a: list, b: list) -> list:
    """`=` on collections: empty if either is empty, else item-wise equality."""
    if not a or not b:
        return []
    if len(a) == len(b) == 1:
        return [equal(a[0], b[0])]
    if len(a) != len(b):
        return [False]
    return [all(equal(x, y) for x, y in zip(a, b, strict=True))]


def compare(a: list, b: list) -> int | None:
    """Order of two singletons (-1, 0, 1) or None when incomparable (the result is empty)."""
    x, y = single(a), single(b)
    if x is None or y is None:
        return None
    kx, ky = _kind(x), _kind(y)
    if kx == ky == "n":
        return (x > y) - (x < y)
    if kx == ky == "s":
        if len(x) == len(y) and (len(x) <= 10 or x[-1] == y[-1] == "Z"):
            return (x > y) - (x < y)  # same shape, no offsets: text order is time order
        dx, dy = DATE_LIKE.fullmatch(x), DATE_LIKE.fullmatch(y)
        if dx and dy:
            return _compare_dates(dx, dy)
        return (x > y) - (x < y)
    if kx == ky == "o" and "value" in x and "value" in y:
        return _compare_quantities(x, y)
    raise EvalError("values of these types cannot be compared")


def _parts(m: re.Match) -> list:
    """Date/time components to compare; a zoned time is moved to UTC first."""
    year, month, day, hour, minute, second, fraction, zone = m.groups()
    parts: list[float] = [int(p) for p in (year, month, day, hour, minute) if p is not None]
    if second is not None:
        parts.append(float(second + (fraction or "")))
    if zone is not None and hour is not None:
        stamp = f"{year}-{month}-{day}T{hour}:{minute or '00'}:00"
        moved = datetime.fromisoformat(stamp + zone.replace("Z", "+00:00")).astimezone(UTC)
        parts[:5] = [moved.year, moved.month, moved.day, moved.hour, moved.minute][: len(parts)]
    return parts


def _compare_dates(x: re.Match, y: re.Match) -> int | None:
    px, py = _parts(x), _parts(y)
    for a, b in zip(px, py, strict=False):
        if a != b:
            return -1 if a < b else 1
    return 0 if len(px) == len(py) else None  # equal so far at different precision: unknown


def _compare_quantities(x: dict, y: dict) -> int | None:
    """Quantities in the same unit compare by value; in different units, not at all (no UCUM)."""
    ux = (x.get("system"), x.get("code")) if "code" in x else x.get("unit")
    uy = (y.get("system"), y.get("code")) if "code" in y else y.get("unit")
    vx, vy = x["value"], y["value"]
    if ux != uy or _kind(vx) != "n" or _kind(vy) != "n":
        raise EvalError("quantities in different units")
    return (vx > vy) - (vx < vy)


def _and(a: bool | None, b: bool | None) -> bool | None:
    if a is False or b is False:
        return False
    return None if a is None or b is None else True


def _or(a: bool | None, b: bool | None) -> bool | None:
    if a is True or b is True:
        return True
    return None if a is None or b is None else False


def _xor(a: bool | None, b: bool | None) -> bool | None:
    return None if a is None or b is None else a != b


def _implies(a: bool | None, b: bool | None) -> bool | None:
    if a is False or b is True:
        return True
    return None if a is None or b is None else False


LOGIC = {"and": _and, "or": _or, "xor": _xor, "implies": _implies}
ORDER = {
    "<": lambda o: o < 0,
    "<=": lambda o: o <= 0,
    ">": lambda o: o > 0,
    ">=": lambda o: o >= 0,
}


def _numbers(a: list, b: list) -> tuple[Any, Any] | None:
    x, y = single(a), single(b)
    if x is None or y is None:
        return None
    if _kind(x) != "n" or _kind(y) != "n":
        raise EvalError("arithmetic needs numbers")
    return x, y


def _plus(a: list, b: list) -> list:
    x, y = single(a), single(b)
    if x is None or y is None:
        return []
    if _kind(x) == _kind(y) == "s":
        return [x + y]
    pair = _numbers(a, b)
    return [pair[0] + pair[1]] if pair else []


def _concat(a: list, b: list) -> list:
    x, y = single(a), single(b)
    if not isinstance(x, str | None) or not isinstance(y, str | None):
        raise EvalError("& needs strings")
    return [(x or "") + (y or "")]


def _numeric(op: Any) -> Any:
    def run(a: list, b: list) -> list:
        pair = _numbers(a, b)
        if pair is None:
            return []
        try:
            return [op(*pair)]
        except ZeroDivisionError:
            return []

    return run


ARITHMETIC = {
    "+": _plus,
    "&": _concat,
    "-": _numeric(lambda x, y: x - y),
    "*": _numeric(lambda x, y: x * y),
    "mod": _numeric(lambda x, y: x % y),
    "div": _numeric(lambda x, y: x // y),
}
