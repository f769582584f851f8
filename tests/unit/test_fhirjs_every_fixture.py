"""FHIR.js, the independent validator, accepts every valid FHIR file the project ships."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Folders of valid FHIR; invalid fixtures live apart (they exist to fail) and base/ is not FHIR.
VALID_FOLDERS = [
    "fixtures/fhir",
    "fixtures/validation/valid",
    "fixtures/conformance/valid",
    "conformance/profiles",
    "conformance/valuesets",
    "conformance/terminology",
    "conformance/messages",
    "conformance/questionnaires",
    "conformance/examples",
    "mappings/terminology",
    "mappings/service-directory",
]


def _files() -> list[Path]:
    files = [path for folder in VALID_FOLDERS for path in sorted((ROOT / folder).rglob("*.json"))]
    files += [
        path
        for path in sorted((ROOT / "fixtures" / "questionnaires").glob("*.json"))
        if not path.name.startswith("invalid-")
    ]
    return [path for path in files if not path.name.endswith(".expected.json")]


FILES = _files()
# Where FHIR.js is wrong and the R4 spec is on our side; the test proves it still disagrees.
FHIRJS_FALSE_ERRORS = {
    "bundle-transaction-conditional.json": "conditional references are allowed in transactions",
}


def test_every_folder_has_files() -> None:
    for folder in VALID_FOLDERS:
        assert any((ROOT / folder).rglob("*.json")), folder


@pytest.mark.fhirjs
@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_fhirjs_finds_no_errors(path: Path, fhirjs) -> None:  # type: ignore[no-untyped-def]
    errors = fhirjs.validate(json.loads(path.read_text(encoding="utf-8")))
    if path.name in FHIRJS_FALSE_ERRORS:
        assert errors, f"FHIR.js now accepts {path.name}: drop it from FHIRJS_FALSE_ERRORS"
    else:
        assert errors == []
