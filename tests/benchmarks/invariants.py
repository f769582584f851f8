"""FHIRPath invariants: our compiled closures vs fhirpathpy's interpreter, per evaluation."""

from __future__ import annotations

import contextlib
import io
import statistics
from collections.abc import Callable

import fhirpathpy
from fhirpathpy.models import models

from tests.support.invariant_cases import Case, cases, payloads
from tests.unit.test_base_invariants import CASES

Median = Callable[[Callable[[], object], int], float]


def _one_case_per_key() -> dict[str, Case]:
    """For each invariant met in the fixtures, one item it really runs on (no shortcut)."""
    found: dict[str, Case] = {}
    for _, payload in payloads():
        for case in cases(payload):
            if not case.shortcut and case.invariant.key not in found:
                found[case.invariant.key] = case
    return found


def _fhirpathpy(case: Case) -> Callable[[], object] | None:
    compiled = fhirpathpy.compile(case.invariant.expression, models["r4"])
    env = {"resource": case.env["resource"], "rootResource": case.env["rootResource"]}
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            compiled(case.item, env)
    except Exception:  # e.g. hasValue() is not implemented in fhirpathpy 2.2
        return None
    return lambda: compiled(case.item, env)


def invariant_engine_section(median: Median) -> list[str]:
    """Median µs per evaluation, compiled vs fhirpathpy, on fixture items."""
    rows, ratios = [], []
    for key, case in sorted(_one_case_per_key().items()):
        ours = median(lambda case=case: case.invariant.check(case.item, case.env), 2000)
        run = _fhirpathpy(case)
        with contextlib.redirect_stdout(io.StringIO()):
            theirs = median(run, 200) if run else None
        if theirs:
            ratios.append(theirs / ours)
        their_text = f"{theirs * 1e6:.1f} µs | {theirs / ours:.0f}×" if theirs else "cannot | –"
        if key in CASES or key.startswith("dom-"):
            rows.append(f"| {key} | {ours * 1e6:.2f} µs | {their_text} |")
    return [
        "## FHIRPath invariants: compiled closures vs fhirpathpy, one core",
        "",
        "Each invariant the walker meets in `fixtures/` and `../shared/reference` (on an item it "
        "really evaluates), compiled once by `adapter/conformance/fhirpath.py` vs "
        "`fhirpathpy.compile` (parsed once, interpreted per call). Listed invariants shown; "
        f"over all {len(ratios)} comparable: median speed-up "
        f"{statistics.median(ratios):.0f}×, smallest {min(ratios):.0f}×.",
        "",
        "| invariant | compiled | fhirpathpy | speed-up |",
        "| --- | --- | --- | --- |",
        *rows,
        "",
    ]


SECTIONS = [invariant_engine_section]
