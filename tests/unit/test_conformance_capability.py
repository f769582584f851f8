"""The package's CapabilityStatement is generated from the API; it must not drift from it.

Regenerate after changing what the API serves:
    LD_ADAPTER_UPDATE_GOLDENS=1 .venv/bin/pytest tests/unit/test_conformance_capability.py
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

from adapter.api.fhir_capability import PACKAGE_STATEMENT_URL, package_capability_statement
from adapter.conformance import validate
from adapter.conformance.package import profiles_by_type
from adapter.search.definitions import default_registry

ROOT = Path(__file__).resolve().parents[2]
STATEMENT = ROOT / "conformance" / "CapabilityStatement-ld-adapter.json"


def _generated(date: str) -> dict:
    version = json.loads((ROOT / "conformance" / "package.json").read_text())["version"]
    return package_capability_statement(default_registry(), date, version, profiles_by_type())


def test_package_statement_matches_what_the_api_serves() -> None:
    if os.environ.get("LD_ADAPTER_UPDATE_GOLDENS") == "1":
        fresh = _generated(datetime.now(UTC).date().isoformat())
        STATEMENT.write_text(json.dumps(fresh, indent=2, ensure_ascii=False) + "\n")
    stored = json.loads(STATEMENT.read_text())
    assert stored == _generated(stored["date"])


def test_package_statement_is_valid_and_names_our_profiles(fhirjs) -> None:  # type: ignore[no-untyped-def]
    stored = json.loads(STATEMENT.read_text())
    assert [i for i in validate(stored) if i.severity == "error"] == []
    assert fhirjs.validate(stored) == []
    profiles = {p for r in stored["rest"][0]["resource"] for p in r.get("supportedProfile", [])}
    assert "https://ld-adapter.github.io/fhir/StructureDefinition/ld-screening-response" in profiles


def test_the_server_statement_instantiates_it(client) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/fhir/metadata").get_json()["instantiates"] == [PACKAGE_STATEMENT_URL]
