"""Pretty-printed JSON with the element path of each line, to mark where an issue points.

`pretty_lines` prints a document two-space indented; `place` finds the line of a FHIRPath-style
expression such as `Bundle.entry[0].resource.birthDate` (the nearest element present, when the
expression names one that is missing, e.g. a required element).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

Path = tuple[str | int, ...]
_STEP = re.compile(r"([A-Za-z_][\w-]*)((?:\[\d+\])*)")
_FUNCTION = re.compile(r"^(ofType|as|resolve|where|extension)\(")


@dataclass(frozen=True)
class Line:
    """One printed line: its text and the path of the element it opens or holds."""

    number: int
    text: str
    path: Path


def pretty_lines(document: Any) -> list[Line]:
    """The document printed two-space indented, a Line per line (numbers from 1)."""
    collected: list[tuple[str, Path]] = []
    _emit(document, (), 0, "", "", collected)
    return [Line(n, text, path) for n, (text, path) in enumerate(collected, start=1)]


def _emit(value: Any, path: Path, depth: int, label: str, comma: str, out: list) -> None:
    pad = "  " * depth
    if isinstance(value, dict) and value:
        out.append((f"{pad}{label}{{", path))
        items = list(value.items())
        for index, (key, item) in enumerate(items):
            tail = "," if index < len(items) - 1 else ""
            _emit(
                item, (*path, key), depth + 1, f"{json.dumps(key, ensure_ascii=False)}: ", tail, out
            )
        out.append((f"{pad}}}{comma}", path))
    elif isinstance(value, list) and value:
        out.append((f"{pad}{label}[", path))
        for index, item in enumerate(value):
            tail = "," if index < len(value) - 1 else ""
            _emit(item, (*path, index), depth + 1, "", tail, out)
        out.append((f"{pad}]{comma}", path))
    else:
        out.append((f"{pad}{label}{json.dumps(value, ensure_ascii=False)}{comma}", path))


def expression_path(expression: str) -> Path | None:
    """The element path an expression names (`Patient.name[0].family` → name, 0, family)."""
    steps = expression.split(".")
    if not steps or not steps[0][:1].isupper():
        return None
    path: list[str | int] = []
    for step in steps[1:]:
        if _FUNCTION.match(step):
            continue  # ofType(Patient) and the like narrow the type; the path goes on
        match = _STEP.fullmatch(step)
        if match is None:
            return None
        path.append(match.group(1))
        path.extend(int(index) for index in re.findall(r"\d+", match.group(2)))
    return tuple(path)


def place(expression: str, lines: list[Line] | dict[Path, int]) -> int | None:
    """The number of the first line of the element the expression names, or of its nearest
    parent present; None if it cannot be placed (unparsed, or only the whole document).

    Placing many issues, pass `first_lines(lines)` once rather than the lines each time.
    """
    path = expression_path(expression)
    if path is None:
        return None
    first = lines if isinstance(lines, dict) else first_lines(lines)
    while path:
        if path in first:
            return first[path]
        path = path[:-1]
    return None


def first_lines(lines: list[Line]) -> dict[Path, int]:
    """Each element path and the number of the first line printing it."""
    first: dict[Path, int] = {}
    for line in lines:
        first.setdefault(line.path, line.number)
    return first
