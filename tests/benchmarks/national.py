"""UK Core and BaRS profiles: cold start with the national packages, warm checks vs FHIR.js."""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import orjson

from adapter.conformance import has_errors, validate
from tests.support.fhirjs import FhirJs, fhirjs_available

ROOT = Path(__file__).resolve().parents[2]
UKCORE_DIR = ROOT.parent / "shared" / "reference" / "ukcore"
UKCORE = "https://fhir.hl7.org.uk/StructureDefinition/UKCore-"
ENCOUNTER = UKCORE_DIR / "UKCore-Encounter-InpatientEncounter-Example.json"
Median = Callable[[Callable[[], object], int], float]
COLD_RUNS = 5


def examples() -> list[dict]:
    """The published UK Core examples (real resources, each valid against its UK Core profile)."""
    return [orjson.loads(p.read_bytes()) for p in sorted(UKCORE_DIR.glob("*.json"))]


def _cold(command: list[str]) -> float:
    samples = []
    for _ in range(COLD_RUNS):
        start = time.perf_counter()
        subprocess.run(command, capture_output=True, cwd=ROOT, check=False)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def _first_use() -> float:
    """In a fresh process, warm otherwise: national packages read, UK Core Encounter compiled."""
    code = (
        "import time, orjson; from adapter.conformance import validate;"
        f"r = orjson.loads(open({str(ENCOUNTER)!r}, 'rb').read()); validate(r); validate(r);"
        f"t = time.perf_counter(); validate(r, {UKCORE + 'Encounter'!r});"
        "print(time.perf_counter() - t)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, cwd=ROOT, check=True)
    return float(done.stdout)


def national_section(median: Median) -> list[str]:
    """Cold start with a UK Core profile, first use of the packages, warm checks vs FHIR.js."""
    resources = examples()
    pairs = [(r, UKCORE + r["resourceType"]) for r in resources]
    assert not any(has_errors(validate(r, p)) for r, p in pairs)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "encounter.json"
        path.write_bytes(ENCOUNTER.read_bytes())
        cli = [sys.executable, "-m", "adapter.cli", "validate", str(path)]
        plain = _cold(cli)
        national = _cold([*cli[:4], "--profile", UKCORE + "Encounter", str(path)])
    ours = median(lambda: [validate(r, p) for r, p in pairs], 200)
    lines = [
        "## UK Core and BaRS profiles (conformance/national), one core",
        "",
        f"Input: the {len(resources)} UK Core examples in `../shared/reference/ukcore`, each "
        "validated against the UK Core profile of its type (base spec + UK Core profile).",
        "",
        "| measure | median | target |",
        "| --- | --- | --- |",
        f"| cold `adapter.cli validate FILE` (UK Core Encounter, no profile) | {plain:.2f} s | |",
        f"| cold `adapter.cli validate --profile UKCore-Encounter FILE` | {national:.2f} s "
        "| ≤ 1 s |",
        f"| first use in a warm process: national packages read, UKCore-Encounter compiled, "
        f"checked | {_first_use() * 1e3:.1f} ms | |",
        f"| warm: the {len(resources)} examples against their UK Core profiles "
        f"| {ours * 1e3:.2f} ms | ≤ FHIR.js |",
    ]
    if fhirjs_available():
        with FhirJs() as fhirjs:
            theirs = median(lambda: [fhirjs.verdict(r) for r in resources], 50)
        lines.append(
            f"| FHIR.js on the same {len(resources)} (base spec only, incl. pipe round trips) "
            f"| {theirs * 1e3:.2f} ms | ours {ours / theirs:.2f}× |"
        )
    return [*lines, ""]


SECTIONS = [national_section]
