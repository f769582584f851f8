"""Validating files for the `ld-adapter validate` command, and its text / JSON / JUnit reports."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree as ET

import orjson

from adapter.conformance.full import validate
from adapter.conformance.messages import issue
from adapter.conformance.validate import has_errors
from adapter.errors import Issue


@dataclass
class FileResult:
    """One file's issues."""

    path: str
    issues: list[Issue]

    @property
    def valid(self) -> bool:
        """No errors (warnings and information allowed)."""
        return not has_errors(self.issues)


SEVERITY_RANK = {"information": 0, "warning": 1, "error": 2, "fatal": 3}


def at_least(result: FileResult, severity: str) -> FileResult:
    """The result with issues less severe than `severity` left out (errors are never hidden)."""
    floor = min(SEVERITY_RANK[severity], SEVERITY_RANK["error"])
    kept = [i for i in result.issues if SEVERITY_RANK.get(i.severity, 3) >= floor]
    return FileResult(result.path, kept)


def json_files(paths: Iterable[Path]) -> list[Path]:
    """The files named, and every *.json under the directories named, in a stable order."""
    found: list[Path] = []
    for path in paths:
        found.extend(sorted(path.rglob("*.json")) if path.is_dir() else [path])
    return found


def check_files(files: Iterable[Path], profile: str | None) -> Iterator[FileResult]:
    """Validate each file; a file that cannot be read is reported, not raised."""
    for path in files:
        try:
            data = path.read_bytes()
        except OSError as exc:
            why = f"cannot read the file ({exc.strerror or type(exc).__name__})"
            yield FileResult(str(path), [issue("LD-FILE-UNREADABLE", "", why)])
            continue
        yield FileResult(str(path), validate(data, profile))


def as_text(results: list[FileResult]) -> str:
    """One line per issue: `path: severity code expression: message`."""
    lines = []
    for result in results:
        for i in result.issues:
            where = i.expression[0] if i.expression else "-"
            lines.append(f"{result.path}: {i.severity} {i.code} {where}: {i.diagnostics}")
    valid = sum(r.valid for r in results)
    lines.append(f"{valid} of {len(results)} file(s) valid")
    return "\n".join(lines)


def as_json(results: list[FileResult]) -> str:
    """A JSON array: per file, whether it is valid and its issues."""
    out = [
        {
            "file": r.path,
            "valid": r.valid,
            "issues": [
                {
                    "severity": i.severity,
                    "code": i.code,
                    "expression": i.expression[0] if i.expression else None,
                    "message_id": i.message_id,
                    "diagnostics": i.diagnostics,
                }
                for i in r.issues
            ],
        }
        for r in results
    ]
    return orjson.dumps(out, option=orjson.OPT_INDENT_2).decode()


def as_junit(results: list[FileResult]) -> str:
    """JUnit XML for CI: one test case per file, failing when it has errors."""
    suite = ET.Element(
        "testsuite",
        name="ld-adapter validate",
        tests=str(len(results)),
        failures=str(sum(not r.valid for r in results)),
    )
    for result in results:
        case = ET.SubElement(suite, "testcase", classname="fhir", name=result.path)
        errors = [i for i in result.issues if i.severity in ("error", "fatal")]
        if errors:
            failure = ET.SubElement(case, "failure", message=f"{len(errors)} error(s)")
            failure.text = "\n".join(
                f"{i.expression[0] if i.expression else '-'}: {i.diagnostics}" for i in errors
            )
    return ET.tostring(suite, encoding="unicode", xml_declaration=True)


FORMATS = {"text": as_text, "json": as_json, "junit": as_junit}
