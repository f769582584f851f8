"""FHIR.js as an independent R4 validator for tests: one node process, one JSON line each way.

    with open_fhirjs() as fhirjs:
        assert fhirjs.validate(resource) == []

The node side is tests/fhirjs/validate.js; install it with `npm ci --prefix tests/fhirjs`.
"""

from __future__ import annotations

import json
import select
import shutil
import subprocess
import tempfile
from pathlib import Path
from types import TracebackType

import pytest

HARNESS_DIR = Path(__file__).resolve().parents[1] / "fhirjs"
SCRIPT = HARNESS_DIR / "validate.js"
INSTALL_HINT = "FHIR.js is not installed: run `npm ci --prefix tests/fhirjs` (needs node >= 18)"
# FHIR.js reports these severities for real faults; warnings and info are about unknown value sets.
ERROR_SEVERITIES = frozenset({"error", "fatal"})
REPLY_TIMEOUT_S = 30.0


def fhirjs_available() -> bool:
    """True when node is on PATH and the `fhir` package is installed under tests/fhirjs."""
    return (
        shutil.which("node") is not None
        and (HARNESS_DIR / "node_modules" / "fhir" / "package.json").is_file()
    )


class FhirJsError(RuntimeError):
    """The node process died, hung or answered with something that is not a verdict."""


class FhirJs:
    """A running `node tests/fhirjs/validate.js`; validate() is one round trip on its pipes."""

    def __init__(self) -> None:
        node = shutil.which("node")
        if node is None or not fhirjs_available():
            raise FhirJsError(INSTALL_HINT)
        # A file, not a pipe, so a chatty stderr can never fill up and stall the process;
        # it lives as long as the process and close() closes it.
        self._stderr = tempfile.TemporaryFile(mode="w+", encoding="utf-8")  # noqa: SIM115
        self._proc = subprocess.Popen(
            [node, str(SCRIPT)],
            cwd=HARNESS_DIR,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
            encoding="utf-8",
            bufsize=1,
        )

    def verdict(self, resource: dict) -> dict:
        """FHIR.js's full answer for one resource: {"valid": bool, "messages": [...]}."""
        proc = self._proc
        if proc.stdin is None or proc.stdout is None or proc.poll() is not None:
            raise FhirJsError(f"FHIR.js process is not running{self._stderr_tail()}")
        # json.dumps never emits a raw newline, so one resource is exactly one line.
        try:
            proc.stdin.write(json.dumps(resource, ensure_ascii=False) + "\n")
            proc.stdin.flush()
        except BrokenPipeError as err:
            raise FhirJsError(f"FHIR.js process exited{self._stderr_tail()}") from err
        # One request in flight at a time: Python's read buffer is empty here, so select is exact.
        ready, _, _ = select.select([proc.stdout], [], [], REPLY_TIMEOUT_S)
        if not ready:
            raise FhirJsError(f"FHIR.js gave no answer within {REPLY_TIMEOUT_S:.0f} s")
        line = proc.stdout.readline()
        if not line:
            raise FhirJsError(f"FHIR.js process exited{self._stderr_tail()}")
        try:
            answer = json.loads(line)
        except json.JSONDecodeError as err:
            raise FhirJsError(f"FHIR.js answered with a line that is not JSON: {err}") from err
        if not isinstance(answer, dict) or "messages" not in answer:
            raise FhirJsError("FHIR.js answered without a messages list")
        return answer

    def validate(self, resource: dict) -> list[dict]:
        """The error and fatal messages FHIR.js reports for one resource; [] means valid."""
        return [
            message
            for message in self.verdict(resource)["messages"]
            if message.get("severity") in ERROR_SEVERITIES
        ]

    def close(self) -> None:
        """Stop the node process (closing stdin lets it exit on its own)."""
        proc = self._proc
        if proc.stdin is not None and not proc.stdin.closed:
            proc.stdin.close()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
        self._stderr.close()

    def _stderr_tail(self) -> str:
        if self._proc.poll() is None:
            return ""
        self._stderr.seek(0)
        tail = self._stderr.read()[-500:].strip()
        return f": {tail}" if tail else ""

    def __enter__(self) -> FhirJs:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def open_fhirjs() -> FhirJs:
    """Start FHIR.js for a test; fail it (never skip it) when the harness is not installed."""
    if not fhirjs_available():
        pytest.fail(INSTALL_HINT, pytrace=False)
    return FhirJs()
