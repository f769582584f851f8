"""Validation: the full `validate` of L&D referral messages, cold start of the CLI, and FHIR.js."""

from __future__ import annotations

import copy
import shutil
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
MESSAGE_FILE = ROOT / "conformance" / "examples" / "Bundle-ld-referral-message-example.json"
UKCORE_DIR = ROOT.parent / "shared" / "reference" / "ukcore"
REFERRAL_FILE = ROOT / "fixtures" / "native" / "referrals" / "adult-custody-telford.json"
Median = Callable[[Callable[[], object], int], float]
COLD_RUNS = 5


def ten_entry_message() -> dict:
    """The example referral message cut to 10 entries (the PractitionerRole goes)."""
    bundle = orjson.loads(MESSAGE_FILE.read_bytes())
    role = next(e for e in bundle["entry"] if e["resource"]["resourceType"] == "PractitionerRole")
    bundle["entry"].remove(role)
    for entry in bundle["entry"]:
        if entry["resource"].get("author", {}).get("reference") == role["fullUrl"]:
            entry["resource"]["author"] = {"display": "L&D practitioner"}
    return bundle


def large_message(size: int) -> dict:
    """A referral message padded to `size` entries with Consents (0..* in the definition)."""
    bundle = ten_entry_message()
    consent = next(e for e in bundle["entry"] if e["resource"]["resourceType"] == "Consent")
    while len(bundle["entry"]) < size:
        extra = copy.deepcopy(consent)
        extra["fullUrl"] = f"urn:uuid:00000000-0000-4000-8000-{len(bundle['entry']):012d}"
        bundle["entry"].append(extra)
    return bundle


def mixed_bundle(size: int) -> dict:
    """A collection of `size` entries: the 10-entry message's resources repeated, same mix."""
    members = ten_entry_message()["entry"][1:]
    entries = []
    while len(entries) < size:
        for member in members[: size - len(entries)]:
            entry = copy.deepcopy(member)
            entry["fullUrl"] = f"urn:uuid:00000000-0000-4000-8000-{len(entries):012d}"
            entries.append(entry)
    return {"resourceType": "Bundle", "type": "collection", "entry": entries}


def ukcore_bundle(size: int) -> dict:
    """A collection of `size` entries: the UK Core examples (real published resources) repeated."""
    members = [orjson.loads(p.read_bytes()) for p in sorted(UKCORE_DIR.glob("*.json"))]
    entries = [
        {
            "fullUrl": f"urn:uuid:00000000-0000-4000-8000-{i:012d}",
            "resource": copy.deepcopy(members[i % len(members)]),
        }
        for i in range(size)
    ]
    return {"resourceType": "Bundle", "type": "collection", "entry": entries}


def referral_resources() -> list[dict]:
    """What POST /api/referrals stores for the example referral: validated before it is stored."""
    from adapter.mapping import referral_to_fhir
    from adapter.native.referral_schema import load_referral
    from tests.benchmarks.intake import PERFORMER, sample_ids

    referral = load_referral(orjson.loads(REFERRAL_FILE.read_bytes()))
    return referral_to_fhir(referral, sample_ids(referral), performer=PERFORMER).all()


def referral_section(median: Median) -> list[str]:
    """The full validation (base + invariants + profiles) of a referral's resources."""
    from adapter.services.common import ensure_conformant

    resources = referral_resources()
    ensure_conformant(resources)  # raises if any of them has an error
    spent = median(lambda: ensure_conformant(resources), 2000)
    kinds = ", ".join(sorted({r["resourceType"] for r in resources}))
    return [
        "## Validation of a referral's resources (what intake checks before storing), one core",
        "",
        f"Input: `{REFERRAL_FILE.relative_to(ROOT)}` mapped to {len(resources)} resources "
        f"({kinds}); every R4 base invariant of severity error and every profile invariant.",
        "",
        "| measure | median | target |",
        "| --- | --- | --- |",
        f"| `ensure_conformant` (full `validate` of each) | {spent * 1e3:.2f} ms | ≤ 2 ms |",
        "",
    ]


def ukcore_section(median: Median) -> list[str]:
    """Real UK Core resources: 10 vs 1,000 entries, and FHIR.js on the same."""
    small, large = ukcore_bundle(10), ukcore_bundle(1000)
    small_time = median(lambda: validate(small), 500)
    large_time = median(lambda: validate(large), 20)
    lines = [
        "## Validation of real UK Core resources, one core",
        "",
        f"Input: the {len(list(UKCORE_DIR.glob('*.json')))} UK Core examples in "
        "`../shared/reference/ukcore` repeated into a 10- and a 1,000-entry collection.",
        "",
        "| measure | median | per entry | target |",
        "| --- | --- | --- | --- |",
        f"| `validate` 10-entry UK Core collection | {small_time * 1e3:.2f} ms "
        f"| {small_time / 10 * 1e6:.0f} µs | |",
        f"| `validate` 1,000-entry UK Core collection | {large_time * 1e3:.1f} ms "
        f"| {large_time / 1000 * 1e6:.0f} µs | ≤ 150× the 10-entry time: "
        f"{large_time / small_time:.0f}× |",
    ]
    if fhirjs_available():
        with FhirJs() as fhirjs:
            js_small = median(lambda: fhirjs.verdict(small), 200)
            js_large = median(lambda: fhirjs.verdict(large), 10)
        lines += [
            f"| FHIR.js 10-entry (base spec only, incl. pipe round trip) | {js_small * 1e3:.2f} ms "
            f"| {js_small / 10 * 1e6:.0f} µs | (reference) |",
            f"| FHIR.js 1,000-entry | {js_large * 1e3:.1f} ms | {js_large / 1000 * 1e6:.0f} µs "
            f"| ours per entry ≤ FHIR.js: {large_time / js_large:.2f}× |",
        ]
    return [*lines, ""]


def validation_section(median: Median) -> list[str]:
    """In-process `validate` of a 10-entry and 1,000-entry bundles, and FHIR.js on the same."""
    small, mixed, large = ten_entry_message(), mixed_bundle(1000), large_message(1000)
    assert not has_errors(validate(small)) and not has_errors(validate(large))
    small_time = median(lambda: validate(small), 2000)
    mixed_time = median(lambda: validate(mixed), 30)
    large_time = median(lambda: validate(large), 30)
    lines = [
        "## Validation (base + profiles + message + questionnaires), one core",
        "",
        f"Input: `{MESSAGE_FILE.relative_to(ROOT)}` cut to 10 entries; a 1,000-entry collection "
        "of its resources in the same mix; and the message padded to 1,000 entries with Consents, "
        "the worst case (each Consent carries two profile invariants and the base invariants).",
        "",
        "| measure | median | target |",
        "| --- | --- | --- |",
        f"| `validate` 10-entry referral message | {small_time * 1e3:.2f} ms | ≤ 10 ms |",
        f"| `validate` 1,000-entry bundle, same mix | {mixed_time * 1e3:.1f} ms "
        f"({mixed_time / small_time:.0f}× the 10-entry time) | ≤ 150× |",
        f"| `validate` 1,000-entry message, 990 Consents | {large_time * 1e3:.1f} ms "
        f"({large_time / small_time:.0f}× the 10-entry time) | ≤ 150× |",
    ]
    if fhirjs_available():
        with FhirJs() as fhirjs:
            js_small = median(lambda: fhirjs.verdict(small), 300)
            js_mixed = median(lambda: fhirjs.verdict(mixed), 10)
            js_large = median(lambda: fhirjs.verdict(large), 10)
        lines += [
            f"| FHIR.js `validate` 10-entry (base spec only, incl. pipe round trip) "
            f"| {js_small * 1e3:.2f} ms | (reference) |",
            f"| FHIR.js 1,000-entry bundle, same mix | {js_mixed * 1e3:.1f} ms | (reference) |",
            f"| FHIR.js 1,000-entry message, 990 Consents | {js_large * 1e3:.1f} ms | (reference) |",
        ]
    else:
        lines.append("| FHIR.js | not installed (`npm ci --prefix tests/fhirjs`) | |")
    return [*lines, ""]


def _cold(command: list[str], stdin: bytes | None = None) -> float:
    samples = []
    for _ in range(COLD_RUNS):
        start = time.perf_counter()
        subprocess.run(command, input=stdin, capture_output=True, cwd=ROOT, check=False)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def cold_start_section(median: Median) -> list[str]:
    """Process launch to first validation result: the CLI, and FHIR.js's node harness."""
    del median  # one process launch per sample: medians of COLD_RUNS runs instead
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "message.json"
        path.write_bytes(orjson.dumps(ten_entry_message()))
        cli = _cold([sys.executable, "-m", "adapter.cli", "validate", str(path)])
    lines = [
        "## Validation cold start (process launch → first result)",
        "",
        "| measure | median of 5 | target |",
        "| --- | --- | --- |",
        f"| `python -m adapter.cli validate FILE` (10-entry message) | {cli:.2f} s | ≤ 2 s |",
    ]
    node = shutil.which("node")
    if node and fhirjs_available():
        script = ROOT / "tests" / "fhirjs" / "validate.js"
        js = _cold([node, str(script)], orjson.dumps(ten_entry_message()) + b"\n")
        lines.append(
            f"| `node tests/fhirjs/validate.js` (FHIR.js, same message) | {js:.2f} s | (reference) |"
        )
    return [*lines, ""]


SECTIONS = [validation_section, referral_section, ukcore_section, cold_start_section]
