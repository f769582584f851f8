"""The compiled invariants answer as fhirpathpy does on every fixture and reference example."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path
from typing import Any

import fhirpathpy
import pytest
from fhirpathpy.models import models

from adapter.conformance import validate
from adapter.conformance.fhirpath_values import EvalError
from adapter.conformance.package import package
from adapter.conformance.profile_check import ProfileCheck
from adapter.conformance.profiles import NATIVE_INVARIANTS
from adapter.conformance.profiles import Invariant as ProfileInvariant
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
        if any(s.isdisjoint(case.item) for s in case.invariant.passes_without):
            assert ours is not False, (case.invariant.key, case.path)  # skipped: must hold
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


def _profile_expressions() -> dict[str, str]:
    """key -> FHIRPath of every constraint in our StructureDefinitions."""
    found = {}
    for sd in package().by_type.get("StructureDefinition", []):
        for element in sd.get("differential", {}).get("element", []):
            for constraint in element.get("constraint", []):
                found[constraint["key"]] = constraint["expression"]
    return found


def _profile_cases(payload: dict) -> list[tuple[ProfileInvariant, Any, dict, str]]:
    """The profile invariant checks validating `payload` makes."""
    found: list[tuple[ProfileInvariant, Any, dict, str]] = []
    original = ProfileCheck.invariant

    def record(self: ProfileCheck, inv: ProfileInvariant, item: Any, at: str) -> None:
        found.append((inv, item, dict(self.env), at))
        original(self, inv, item, at)

    ProfileCheck.invariant = record  # type: ignore[method-assign]
    try:
        validate(payload)
    finally:
        ProfileCheck.invariant = original  # type: ignore[method-assign]
    return found


def test_profile_invariants_agree_with_fhirpathpy() -> None:
    expressions, met = _profile_expressions(), set()
    for _, payload in PAYLOADS:
        for inv, item, env, at in _profile_cases(payload):
            if inv.key in NATIVE_INVARIANTS:
                continue
            met.add(inv.key)
            ours = inv.check(item, env)
            text = f"{at}.select({expressions[inv.key]})"
            if text not in _compiled:
                _compiled[text] = fhirpathpy.compile(text, MODEL)
            result = _compiled[text](payload, {"resource": env["resource"]})
            theirs = None if not result else all(r is True for r in result)
            assert (ours is False) == (theirs is False), (inv.key, at, ours, theirs)
    assert met == set(expressions) - set(NATIVE_INVARIANTS)
