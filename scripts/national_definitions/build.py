"""Regenerate conformance/national/: UK Core and BaRS definitions as JSON, pinned by commit.

Reads the two public repositories from local git mirrors (no work tree needed: files are read with
`git show COMMIT:path`), converts their FHIR XML to JSON with FHIR.js (tests/fhirjs, installed by
`make setup`) and writes only the converted definitions, never the repositories' other content:

- ukcore/: every UK Core StructureDefinition (profiles and extensions) and the ValueSets and
  CodeSystems their bindings need (closure over ValueSet includes);
- bars/: the BaRS StructureDefinitions, extensions, MessageDefinitions and CodeSystems;
- SOURCES.json: repository, commit, package name and version, licence and the files written.

The published XML has differentials only (no snapshots); the validator compiles each profile from
its differential along the baseDefinition chain, as it does ours.

Usage: python scripts/national_definitions/build.py --ukcore MIRROR_GIT_DIR --bars MIRROR_GIT_DIR
(git mirrors of NHSDigital/FHIR-R4-UKCORE-STAGING-MAIN and
NHSDigital/NHSDigital-FHIR-BookingAndReferrals).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "conformance" / "national"
CONVERTER = Path(__file__).resolve().parent / "xml_to_json.js"

UKCORE = {
    "repo": "NHSDigital/FHIR-R4-UKCORE-STAGING-MAIN",
    "commit": "3d2827e3e9918674640d0c14a0f870084397a615",
    "folders": ("structuredefinitions/", "valuesets/", "codesystems/"),
    "licence": "Apache-2.0 (HL7 UK, stated in each resource's `copyright`); "
    "HL7 FHIR content under the FHIR licence https://www.hl7.org/fhir/license.html",
}
BARS = {
    "repo": "NHSDigital/NHSDigital-FHIR-BookingAndReferrals",
    "commit": "0cf8fdaa341d8e5591a8faa1cb2cc00cc4b3a8ff",
    "folders": ("StructureDefinition/", "MessageDefinition/", "CodeSystem/"),
    "extra": ("CDSSExtension.xml", "LocationExtension.xml"),
    "licence": "no licence file in the repository; published openly by NHS England "
    "(Crown copyright, reused under the Open Government Licence v3.0)",
}


def git(mirror: Path, *args: str) -> str:
    """stdout of one git command in a mirror."""
    done = subprocess.run(["git", "-C", str(mirror), *args], capture_output=True, check=True)
    return done.stdout.decode("utf-8-sig")


def xml_files(mirror: Path, source: dict) -> list[str]:
    """The XML definition files of a source at its pinned commit."""
    names = git(mirror, "ls-tree", "-r", "--name-only", source["commit"]).splitlines()
    wanted = [n for n in names if n.endswith(".xml") and n.startswith(source["folders"])]
    return sorted([*wanted, *(n for n in source.get("extra", ()) if n in names)])


def convert(mirror: Path, commit: str, files: list[str]) -> dict[str, dict]:
    """FHIR.js's JSON for each XML file, by the file's path in the repository."""
    lines = [json.dumps({"name": f, "xml": git(mirror, "show", f"{commit}:{f}")}) for f in files]
    node = shutil.which("node")
    if node is None:
        sys.exit("node is needed (FHIR.js does the XML to JSON conversion)")
    done = subprocess.run(
        [node, str(CONVERTER)], input="\n".join(lines).encode(), capture_output=True, check=True
    )
    out = {}
    for line in done.stdout.decode().splitlines():
        row = json.loads(line)
        if row["error"] or not isinstance(row["json"], dict):
            print(f"skipped {row['name']}: {row['error']}", file=sys.stderr)
            continue
        out[row["name"]] = row["json"]
    return out


def needed_terminology(resources: list[dict]) -> set[str]:
    """Canonicals of the ValueSets and CodeSystems the StructureDefinitions' bindings reach."""
    by_url = {r["url"]: r for r in resources if isinstance(r.get("url"), str)}
    todo = [
        element["binding"]["valueSet"].partition("|")[0]
        for r in resources
        if r["resourceType"] == "StructureDefinition"
        for element in r.get("differential", {}).get("element", [])
        if element.get("binding", {}).get("valueSet")
    ]
    seen: set[str] = set()
    while todo:
        url = todo.pop()
        if url in seen or url not in by_url:
            continue
        seen.add(url)
        for include in by_url[url].get("compose", {}).get("include", []):
            todo.extend(v.partition("|")[0] for v in include.get("valueSet", []))
            if include.get("system"):
                todo.append(include["system"])
    return seen


def write(folder: Path, resources: dict[str, dict]) -> list[str]:
    """One JSON file per resource, named after its source file; the written file names."""
    folder.mkdir(parents=True, exist_ok=True)
    names = []
    for source, resource in resources.items():
        # Named by source file, not id: two published BaRS MessageDefinitions share an id.
        stem = Path(source).stem.removeprefix(f"{resource['resourceType']}-")
        name = f"{resource['resourceType']}-{stem}.json"
        text = json.dumps(resource, indent=1, ensure_ascii=False) + "\n"
        (folder / name).write_text(text, encoding="utf-8")
        names.append(name)
    return sorted(names)


def build(mirror: Path, source: dict, key: str, select_terminology: bool) -> dict:
    """Convert, select and write one source; its SOURCES.json row."""
    converted = convert(mirror, source["commit"], xml_files(mirror, source))
    if select_terminology:
        needed = needed_terminology(list(converted.values()))
        converted = {
            name: r
            for name, r in converted.items()
            if r["resourceType"] not in ("ValueSet", "CodeSystem") or r.get("url") in needed
        }
    package = json.loads(git(mirror, "show", f"{source['commit']}:package.json"))
    folder = OUT / key
    if folder.exists():
        shutil.rmtree(folder)
    files = write(folder, converted)
    return {
        "repository": f"https://github.com/{source['repo']}",
        "commit": source["commit"],
        "package": package["name"],
        "version": package["version"],
        "licence": source["licence"],
        "converted": datetime.now(UTC).strftime("%Y-%m-%d"),
        "files": files,
    }


def main() -> None:
    """Parse arguments and regenerate both packages."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ukcore", type=Path, required=True, help="git dir of the UK Core mirror")
    parser.add_argument("--bars", type=Path, required=True, help="git dir of the BaRS IG mirror")
    args = parser.parse_args()
    sources = {
        "ukcore": build(args.ukcore, UKCORE, "ukcore", select_terminology=True),
        "bars": build(args.bars, BARS, "bars", select_terminology=False),
    }
    text = json.dumps(sources, indent=1) + "\n"
    (OUT / "SOURCES.json").write_text(text, encoding="utf-8")
    print(f"wrote {sum(len(s['files']) for s in sources.values())} definitions under {OUT}")


if __name__ == "__main__":
    main()
