"""`make bench`: measure, in one run, what the issues set targets for; write docs/benchmarks.md.

Not a test: timings on a shared 2-core machine are too noisy to gate CI on. Each figure is a median
over many repetitions, pinned to one core where the target is per core.
"""

from __future__ import annotations

import os
import platform
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from tests.benchmarks import (
    audit,
    bounded,
    console,
    delivery,
    gp_document,
    inbound,
    intake,
    intake_parallel,
    invariants,
    json_input,
    mesh,
    national,
    onward,
    reports,
    screening,
    store,
    validation,
)

REPORT = Path(__file__).resolve().parents[2] / "docs" / "benchmarks.md"


def median_seconds(action: Callable[[], object], repeats: int, warmup: int = 20) -> float:
    """Median wall time of one call."""
    for _ in range(warmup):
        action()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def pin_to_one_core() -> str:
    """Run this process on one core, so per-core targets are honest."""
    if hasattr(os, "sched_setaffinity"):
        core = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {core})
        return f"pinned to core {core}"
    return "not pinned (no sched_setaffinity)"


def main() -> None:
    """Run every benchmark section and write the report."""
    pinning = pin_to_one_core()
    every = [*intake.SECTIONS, *validation.SECTIONS, *screening.SECTIONS, *audit.SECTIONS]
    every += json_input.SECTIONS
    every += bounded.SECTIONS
    every += invariants.SECTIONS
    every += store.SECTIONS
    every += intake_parallel.SECTIONS
    every += onward.SECTIONS
    every += delivery.SECTIONS
    every += inbound.SECTIONS
    every += reports.SECTIONS
    every += national.SECTIONS
    every += mesh.SECTIONS
    every += gp_document.SECTIONS
    every += console.SECTIONS
    sections = [section(median_seconds) for section in every]
    header = [
        "# Benchmarks",
        "",
        f"Written by `make bench` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; "
        f"Python {platform.python_version()}, {os.cpu_count()} CPUs, benchmark process {pinning}. "
        "Medians of many repetitions, all figures from this one run.",
        "",
    ]
    REPORT.parent.mkdir(exist_ok=True)
    REPORT.write_text("\n".join(header + [line for s in sections for line in s]) + "\n")
    print(REPORT.read_text())


if __name__ == "__main__":
    main()
