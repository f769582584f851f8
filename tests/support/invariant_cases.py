"""Every (invariant, item) the walker meets in our fixtures and the shared reference examples."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from adapter.conformance.definitions import definitions
from adapter.conformance.invariants import Invariant, InvariantSet
from adapter.conformance.walker import Walker

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [
    ROOT / "fixtures",
    ROOT / "conformance" / "examples",
    ROOT.parent / "shared" / "reference",
]


@dataclass
class Case:
    """One invariant met at one item of one payload."""

    invariant: Invariant
    payload: Any
    item: dict
    env: dict
    path: str
    shortcut: bool  # whether the walker answered without running the expression


def payloads() -> Iterator[tuple[Path, Any]]:
    """Each JSON file under the sources that holds a resource."""
    for source in SOURCES:
        for path in sorted(source.rglob("*.json")):
            try:
                data = orjson.loads(path.read_bytes())
            except orjson.JSONDecodeError:
                continue
            if isinstance(data, dict) and isinstance(data.get("resourceType"), str):
                yield path, data


def cases(payload: Any) -> list[Case]:
    """The invariant checks validating `payload` makes, recorded with their inputs."""
    found: list[Case] = []
    original = InvariantSet.evaluate

    def record(self: InvariantSet, item: dict, env: dict, path: str) -> list:
        short = self.triggers is not None and self.triggers.isdisjoint(item)
        for inv in self.items:
            found.append(Case(inv, payload, item, dict(env), path, short))
        return original(self, item, env, path)

    InvariantSet.evaluate = record  # type: ignore[method-assign]
    try:
        Walker(definitions()).resource(payload, "")
    finally:
        InvariantSet.evaluate = original  # type: ignore[method-assign]
    return found
