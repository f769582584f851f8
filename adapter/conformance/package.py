"""The conformance package in conformance/: every FHIR resource in it, indexed once on first use."""

from __future__ import annotations

import copy
import functools
from collections.abc import Iterator
from pathlib import Path

import orjson

PACKAGE_DIR = Path(__file__).resolve().parents[2] / "conformance"
CANONICAL_BASE = "https://ld-adapter.github.io/fhir"
# base/ is compiled validator data, examples/ are instances, other/ holds non-resource data,
# national/ holds UK Core and BaRS: dependencies we validate against, not ours to publish.
NOT_DEFINITIONS = frozenset({"base", "examples", "other", "national"})
# Until the lead moves the project CodeSystems into conformance/terminology; duplicates by url
# are ignored, so this keeps working after the move and can then be deleted.
TRANSITIONAL_DIRS = (PACKAGE_DIR.parent / "mappings" / "terminology",)


class Package:
    """Conformance resources by type, by (type, id) and by canonical url."""

    def __init__(self, root: Path = PACKAGE_DIR, extra: tuple[Path, ...] = ()) -> None:
        self.root = root
        self.by_type: dict[str, list[dict]] = {}
        self.by_id: dict[tuple[str, str], dict] = {}
        self.by_url: dict[str, dict] = {}
        for path in [*_definition_files(root), *(p for d in extra for p in _json_files(d))]:
            resource = _read(path)
            if resource is not None:
                self._add(resource)
        known = root / "other" / "known-extensions.json"
        self.known_extensions: frozenset[str] = frozenset(
            orjson.loads(known.read_bytes())["urls"] if known.is_file() else ()
        )

    def _add(self, resource: dict) -> None:
        rtype, rid, url = resource["resourceType"], resource.get("id"), resource.get("url")
        if isinstance(url, str) and url in self.by_url:
            return  # the same definition twice (a transitional copy): the first one wins
        self.by_type.setdefault(rtype, []).append(resource)
        if isinstance(rid, str):
            self.by_id.setdefault((rtype, rid), resource)
        if isinstance(url, str):
            self.by_url[url] = resource

    def canonical(self, reference: str) -> dict | None:
        """The resource a canonical (`url` or `url|version`) names, if it is in the package."""
        url, _, version = reference.partition("|")
        found = self.by_url.get(url)
        if found is not None and version and found.get("version") not in (None, version):
            return None
        return found

    def examples(self) -> list[tuple[Path, dict]]:
        """Every example instance under conformance/examples/, with its file."""
        out = []
        for path in _json_files(self.root / "examples"):
            resource = _read(path)
            if resource is not None:
                out.append((path, resource))
        return out


def _json_files(directory: Path) -> Iterator[Path]:
    if directory.is_dir():
        yield from sorted(directory.rglob("*.json"))


def _definition_files(root: Path) -> Iterator[Path]:
    for path in _json_files(root):
        rel = path.relative_to(root).parts
        if rel[0] not in NOT_DEFINITIONS and not path.name.startswith((".", "package")):
            yield path


def _read(path: Path) -> dict | None:
    """A resource from a file, None when the file is not a FHIR resource."""
    data = orjson.loads(path.read_bytes())
    if isinstance(data, dict) and isinstance(data.get("resourceType"), str):
        return data
    return None


@functools.cache
def package() -> Package:
    """The one shared package, read on first use."""
    return Package(PACKAGE_DIR, tuple(d for d in TRANSITIONAL_DIRS if d.is_dir()))


def conformance_resources(resource_type: str) -> list[dict]:
    """Every conformance resource of one type the adapter publishes (copies: safe to change)."""
    return copy.deepcopy(package().by_type.get(resource_type, []))


def conformance_resource(resource_type: str, resource_id: str) -> dict | None:
    """One published conformance resource by type and id (a copy), None if there is none."""
    found = package().by_id.get((resource_type, resource_id))
    return copy.deepcopy(found) if found is not None else None


INDEX_FIELDS = ("resourceType", "id", "url", "version", "kind", "type")


def package_index(root: Path = PACKAGE_DIR) -> dict:
    """The FHIR NPM `.index.json` of the package: one row per conformance resource file."""
    files = []
    for path in _definition_files(root):
        resource = _read(path)
        if resource is not None:
            row = {"filename": path.relative_to(root).as_posix()}
            row.update({k: resource[k] for k in INDEX_FIELDS if isinstance(resource.get(k), str)})
            files.append(row)
    return {"index-version": 1, "files": files}


def write_package_index(root: Path = PACKAGE_DIR) -> None:
    """Rewrite conformance/.index.json (run after adding or renaming a conformance resource)."""
    text = orjson.dumps(package_index(root), option=orjson.OPT_INDENT_2) + b"\n"
    (root / ".index.json").write_bytes(text)


def profiles_by_type() -> dict[str, list[str]]:
    """The canonical URLs of our resource profiles, by the resource type each constrains."""
    found: dict[str, list[str]] = {}
    for sd in package().by_type.get("StructureDefinition", []):
        url = sd.get("url", "")
        if sd.get("kind") == "resource" and url.startswith(CANONICAL_BASE):
            found.setdefault(sd["type"], []).append(url)
    return found


@functools.cache
def partner_message_definitions() -> dict[str, dict]:
    """NHS England's published BaRS MessageDefinitions (conformance/national/bars), by url."""
    folder = PACKAGE_DIR / "national" / "bars"
    found = (orjson.loads(p.read_bytes()) for p in sorted(folder.glob("MessageDefinition-*.json")))
    return {d["url"]: d for d in found}
