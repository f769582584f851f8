"""Generate conformance/base/*.json (the FHIR R4 base-spec data the validator reads) from FHIR.js.

The npm package `fhir@4.12.0` ships the R4 (4.0.1) StructureDefinitions and ValueSets already
parsed into `profiles/types.json` and `profiles/valuesets.json`. We reduce them to compact JSON so
the runtime needs no node:

- structures.json: per type, element name -> {t: types, min, max, vs, to, el, cr}
- valuesets.json: required-binding value sets -> {systems: [...], codes: [...]}
- resource-types.json: the R4 resource-type allow-list
- primitives.json: the R4 primitive regexes (from the spec's datatypes page; FHIR.js has none)

Usage: python scripts/build_base_definitions.py [--package-dir DIR]
Reads tests/fhirjs/node_modules/fhir when present, else `npm install fhir@4.12.0` into a temp dir.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "conformance" / "base"
LOCAL_PACKAGE = ROOT / "tests" / "fhirjs" / "node_modules" / "fhir"
PACKAGE = "fhir@4.12.0"
SD_PREFIX = "http://hl7.org/fhir/StructureDefinition/"
VS_PREFIX = "http://hl7.org/fhir/ValueSet/"
ABSTRACT = {"Resource", "DomainResource"}

# Regexes of FHIR R4 4.0.1 primitive types, as published at hl7.org/fhir/R4/datatypes.html.
# Each is matched against the whole value (fullmatch) with ASCII-only \s and \S, as in the spec's
# (Java) regex dialect: a no-break space is text, not whitespace. JSON type is for the walker.
PRIMITIVES = {
    "boolean": {"json": "boolean"},
    "integer": {"json": "integer", "min": -2147483648, "max": 2147483647},
    "unsignedInt": {"json": "integer", "min": 0, "max": 2147483647},
    "positiveInt": {"json": "integer", "min": 1, "max": 2147483647},
    "decimal": {"json": "number"},
    "string": {"json": "string", "re": r"[ \r\n\t\S]+"},
    # The spec's \s*(\S|\s)* matches any text; written so long text does not backtrack.
    "markdown": {"json": "string", "re": r"[\s\S]+"},
    "xhtml": {"json": "string", "re": r"\s*<[\s\S]*"},
    "uri": {"json": "string", "re": r"\S*"},
    "url": {"json": "string", "re": r"\S*"},
    "canonical": {"json": "string", "re": r"\S*"},
    "code": {"json": "string", "re": r"[^\s]+(\s[^\s]+)*"},
    "id": {"json": "string", "re": r"[A-Za-z0-9\-\.]{1,64}"},
    "oid": {"json": "string", "re": r"urn:oid:[0-2](\.(0|[1-9][0-9]*))+"},
    "uuid": {
        "json": "string",
        "re": r"urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
    },
    # The spec's (\s*([0-9a-zA-Z\+/=]){4}\s*)+, rewritten without nested ambiguity (no ReDoS).
    "base64Binary": {"json": "string", "re": r"\s*(?:[0-9a-zA-Z+/=]{4}\s*)+"},
    "date": {
        "json": "string",
        "re": r"([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)"
        r"(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1]))?)?",
    },
    "dateTime": {
        "json": "string",
        "re": r"([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)"
        r"(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1])"
        r"(T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?"
        r"(Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00)))?)?)?",
    },
    "instant": {
        "json": "string",
        "re": r"([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)"
        r"-(0[1-9]|1[0-2])-(0[1-9]|[1-2][0-9]|3[0-1])"
        r"T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?"
        r"(Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00))",
    },
    "time": {"json": "string", "re": r"([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?"},
}


def package_dir(explicit: str | None) -> Path:
    """Where FHIR.js is: the given dir, the test harness install, or a fresh npm install."""
    if explicit:
        return Path(explicit)
    if (LOCAL_PACKAGE / "profiles" / "types.json").exists():
        return LOCAL_PACKAGE
    tmp = Path(tempfile.mkdtemp(prefix="fhirjs-"))
    subprocess.run(
        ["npm", "install", "--no-audit", "--no-fund", "--prefix", str(tmp), PACKAGE], check=True
    )
    return tmp / "node_modules" / "fhir"


def vs_name(url: str) -> str:
    """`http://hl7.org/fhir/ValueSet/request-status|4.0.1` -> `request-status`."""
    return url.split("|", 1)[0].removeprefix(VS_PREFIX)


def element(prop: dict, used_vs: set[str]) -> dict:
    """One FHIR.js property reduced to our compact element form."""
    out: dict = {"t": prop["_type"]}
    if prop.get("_required"):
        out["min"] = 1
    if prop.get("_multiple"):
        out["max"] = "*"
    if prop.get("_valueSetStrength") == "required" and prop.get("_valueSet"):
        out["vs"] = vs_name(prop["_valueSet"])
        used_vs.add(prop["_valueSet"].split("|", 1)[0])
    targets = [t.removeprefix(SD_PREFIX) for t in prop.get("_targetProfiles", [])]
    if prop["_type"] == "Reference" and targets and "Resource" not in targets:
        out["to"] = sorted(targets)
    if prop["_type"].startswith("#"):
        out["cr"] = prop["_type"][1:].split(".", 1)[1]
        out["t"] = "BackboneElement"
    elif prop.get("_properties"):
        out["el"] = elements(prop["_properties"], used_vs)
    return out


def elements(props: list[dict], used_vs: set[str]) -> dict:
    """Element map of one type or backbone; choice variants folded into `name[x]`."""
    out: dict = {}
    for prop in props:
        name = prop["_name"]
        if name.startswith("_"):
            continue  # primitive extension siblings are implied by the primitive's type
        choice = (prop.get("_choice") or "").removesuffix("[x]")  # backbones carry "[x]"
        spec = element(prop, used_vs)
        if not choice:
            out[name] = spec
            continue
        group = out.setdefault(choice + "[x]", {"t": [], "min": 0})
        group["t"].append(prop["_type"])
        group["min"] = max(group["min"], spec.get("min", 0))
        for key in ("vs", "to"):
            if key in spec:
                group.setdefault(key + "_by_type", {})[prop["_type"]] = spec[key]
    for spec in out.values():
        if spec.get("min") == 0:
            del spec["min"]
    return out


def value_sets(raw: dict, used: set[str]) -> tuple[dict, list[str]]:
    """Required value sets we can enumerate, and the names of those FHIR.js cannot expand."""
    out, missing = {}, []
    for url in sorted(used):
        vs = raw.get(url)
        codes = [c["code"] for s in (vs or {}).get("systems", []) for c in s.get("codes", [])]
        if not codes:
            missing.append(vs_name(url))
            continue
        systems = sorted({s["uri"] for s in vs["systems"] if s.get("uri")})
        out[vs_name(url)] = {"systems": systems, "codes": sorted(set(codes))}
    return out, missing


def build(pkg: Path) -> dict[str, object]:
    """All generated documents, keyed by file name."""
    types = json.loads((pkg / "profiles" / "types.json").read_text())
    raw_vs = json.loads((pkg / "profiles" / "valuesets.json").read_text())
    used: set[str] = set()
    structures = {
        name: {"kind": sd["_kind"], "el": elements(sd["_properties"], used)}
        for name, sd in sorted(types.items())
    }
    vsets, missing = value_sets(raw_vs, used)
    resource_types = sorted(
        n for n, sd in types.items() if sd["_kind"] == "resource" and n not in ABSTRACT
    )
    listed = set(vsets.get("resource-types", {}).get("codes", []))
    if listed and listed - ABSTRACT != set(resource_types):
        sys.exit("resource-types ValueSet disagrees with the StructureDefinitions")
    meta = {"source": PACKAGE, "fhirVersion": "4.0.1", "unexpandedRequiredValueSets": missing}
    return {
        "structures.json": structures,
        "valuesets.json": vsets,
        "resource-types.json": resource_types,
        "primitives.json": PRIMITIVES,
        "meta.json": meta,
    }


def main(argv: list[str] | None = None) -> int:
    """Write the generated files and say what was written."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--package-dir", help="an unpacked fhir@4.12.0 npm package")
    args = parser.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    for name, doc in build(package_dir(args.package_dir)).items():
        text = json.dumps(doc, indent=None, separators=(",", ":"), sort_keys=True)
        (OUT / name).write_text(text + "\n")
        print(f"wrote {OUT / name} ({len(text)} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
