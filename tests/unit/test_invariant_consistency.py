"""The compiled invariants answer as fhirpathpy does on every fixture and reference example."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path
from typing import Any

import fhirpathpy
import pytest
from fhirpathpy.models import models

from adapter.conformance.fhirpath_values import EvalError
from tests.support.invariant_cases import ROOT, Case, cases, payloads

PAYLOADS = list(payloads())
MODEL = models["r4"]
_compiled: dict[str, Any] = {}


def _theirs(case: Case) -> bool | str | None:
    """fhirpathpy's verdict on the same item, or "unavailable" where it cannot evaluate."""
    # fhirpathpy 2.2 lacks hasValue(); on a primitive it means exists().
    expression = case.invariant.expression.replace("hasValue()", "exists()")
    text = f"{case.path}.select({expression})"
    env = {"resource": case.env["resource"], "rootResource": case.env["rootResource"]}
    try:
        if text not in _compiled:
            _compiled[text] = fhirpathpy.compile(text, MODEL)
        with contextlib.redirect_stdout(io.StringIO()):  # trace() prints
            result = _compiled[text](case.payload, env)
    except Exception:  # fhirpathpy raises many types: as(canonical), Quantity comparison...
        return "unavailable"
    return None if not result else all(r is True for r in result)


def _ours(case: Case) -> bool | str | None:
    try:
        return case.invariant.check(case.item, case.env)
    except EvalError:
        return "error"


@pytest.mark.parametrize(
    "path", [p for p, _ in PAYLOADS], ids=lambda p: str(p.relative_to(ROOT.parent))
)
def test_compiled_invariants_agree_with_fhirpathpy(path: Path) -> None:
    payload = dict(PAYLOADS)[path]
    for case in cases(payload):
        ours = _ours(case)
        if case.shortcut:  # the walker answered from the compile-time verdict: it must be the same
            assert ours == case.invariant.when_absent, (case.invariant.key, case.path)
        theirs = _theirs(case)
        if theirs != "unavailable":
            # Empty and true both pass; the verdicts must agree on failing.
            assert (ours is False) == (theirs is False), (
                case.invariant.key,
                case.path,
                ours,
                theirs,
            )
            assert ours != "error", (case.invariant.key, case.path)


def test_the_examples_meet_the_listed_invariants() -> None:
    met = {c.invariant.key for _, payload in PAYLOADS for c in cases(payload)}
    assert {"dom-2", "dom-3", "dom-4", "dom-5", "pat-1", "qrs-1", "que-1", "que-2", "cpt-2"} <= met
