"""The profile tier: one resource against a compiled profile of ours; each broken rule, an Issue."""

from __future__ import annotations

import re
from typing import Any

import orjson

from adapter.conformance.definitions import definitions
from adapter.conformance.extension_context import context_allows
from adapter.conformance.messages import issue
from adapter.conformance.profiles import Invariant, Node, Profile, Profiles
from adapter.conformance.slicing import values_at
from adapter.conformance.terminology import Expansion
from adapter.domain import is_valid_nhs_number
from adapter.errors import Issue

NHS_NUMBER_SYSTEM = "https://fhir.nhs.uk/Id/nhs-number"
NHS_SYSTEM_BYTES = orjson.dumps(NHS_NUMBER_SYSTEM)  # quoted, as it appears in a JSON value
EXTENSION_KEY = b'xtension":'  # ends both `extension` and `modifierExtension` as JSON keys
# `Type/id` at the end of a relative or absolute reference (FHIR's own pattern for both parts).
REFERENCE_TYPE = re.compile(r"(?:^|/)([A-Z][A-Za-z]+)/[A-Za-z0-9\-.]{1,64}$")


class ProfileCheck:
    """Checks one resource against one profile; collects issues."""

    def __init__(self, profiles: Profiles, profile: Profile, resource: dict) -> None:
        self.profiles = profiles
        self.profile = profile
        self.env = {"resource": resource, "rootResource": resource}
        self.issues: list[Issue] = []

    def run(self, resource: dict, path: str, extensions: bool = True) -> list[Issue]:
        """Every rule of the profile (and, unless told not, each extension's) at `path`."""
        self.value(self.profile.root, resource, path)
        if extensions:
            self.issues.extend(extension_issues(self.profiles, resource, path))
        return self.issues

    def value(self, node: Node, item: Any, at: str) -> None:
        """One item of an element: fixed, pattern, binding, invariants, then its children."""
        if node.fixed is not None and item != node.fixed:
            why = f"{_leaf(at)} must be exactly the value fixed by {self.profile.name}"
            self.issues.append(issue("LD-PROFILE-FIXED", at, f"{why} ({_show(node.fixed)})"))
        if node.pattern is not None and not _matches(node.pattern, item):
            why = f"{_leaf(at)} must match the pattern of {self.profile.name}"
            self.issues.append(issue("LD-PROFILE-PATTERN", at, f"{why} ({_show(node.pattern)})"))
        if node.binding is not None:
            self.binding(node, item, at)
        if node.targets is not None and isinstance(item, dict):
            self.target(node.targets, item, at)
        for inv in node.invariants:
            self.invariant(inv, item, at)
        if isinstance(item, dict):
            for name, child in node.children.items():
                # Most names are plain keys: one dict lookup, not the value[x] scan.
                key, found = _lookup(item, name) if name[-1] == "]" else (name, item.get(name))
                if found is None and not child.min and not child.slices:
                    continue  # an absent optional element: nothing to count or check
                if child.types is None or found is None or self.typed(child, key, f"{at}.{key}"):
                    self.element(child, found, f"{at}.{key}")

    def element(self, node: Node, found: Any, at: str) -> None:
        """All items of one element: cardinality, slices, then each item."""
        is_list = isinstance(found, list)
        items = found if is_list else ([] if found is None else [found])
        self.cardinality(node, len(items), at, "CARDINALITY")
        if node.slices:
            self.sliced(node, items, at, is_list)
        if not node.has_rules():
            return
        for i, item in enumerate(items):
            self.value(node, item, f"{at}[{i}]" if is_list else at)

    def typed(self, node: Node, key: str, at: str) -> bool:
        """Whether a choice element's JSON key (valueString) is of a type the profile allows."""
        assert node.types is not None
        suffix = key[len(node.name) - 3 :]
        if any(suffix == code[:1].upper() + code[1:] for code in node.types):
            return True
        code = suffix if definitions().is_data_type(suffix) else suffix[:1].lower() + suffix[1:]
        if not definitions().is_data_type(code):
            return True  # not a type at all: the base tier reports the unknown element
        allowed = " or ".join(sorted(node.types))
        why = f"{node.name} of {self.profile.name} must be {allowed}, not {code}"
        self.issues.append(issue("LD-PROFILE-TYPE", at, why))
        return False  # its other rules (a binding, say) would only restate the wrong type

    def cardinality(self, node: Node, count: int, at: str, kind: str) -> None:
        """min/max of an element or of a slice."""
        too_few = node.min is not None and count < node.min
        if not too_few and (node.max is None or node.max == "*" or count <= int(node.max)):
            return  # the usual case: no name to build
        name = _leaf(at)
        if too_few:
            if kind == "SLICE" and node.slice_value and name == "extension":
                why = f"{self.profile.name} requires the extension {node.slice_value}"
                self.issues.append(issue("LD-PROFILE-EXTENSION-MISSING", at, why))
                return
            what = f" with {node.slice_value}" if kind == "SLICE" else ""
            why = f"{name} needs at least {node.min} item(s){what} in {self.profile.name}"
            why += f"; found {count}"
            self.issues.append(issue(f"LD-PROFILE-{kind}-MIN", at, why))
        if node.max not in (None, "*") and count > int(node.max):
            what = f" with {node.slice_value}" if kind == "SLICE" else ""
            why = f"{name} allows at most {node.max} item(s){what} in {self.profile.name}"
            why += f"; found {count}"
            self.issues.append(issue(f"LD-PROFILE-{kind}-MAX", at, why))

    def sliced(self, node: Node, items: list, at: str, is_list: bool) -> None:
        """Slices by the value at their discriminator path (system, url, ...): count, check each."""
        parts = (node.discriminator or "").split(".")
        by_value = {s.slice_value: s for s in node.slices.values() if s.slice_value}
        members: dict[str, list[tuple[int, Any]]] = {v: [] for v in by_value}
        for i, item in enumerate(items):
            for value in set(values_at(item, parts)) if isinstance(item, dict) else ():
                if value in members:
                    members[value].append((i, item))
        for value, slice_node in by_value.items():
            self.cardinality(slice_node, len(members[value]), at, "SLICE")
            if slice_node.has_rules():
                for i, item in members[value]:
                    self.value(slice_node, item, f"{at}[{i}]" if is_list else at)

    def binding(self, node: Node, item: Any, at: str) -> None:
        """Required (error) or extensible (warning) binding to one of our ValueSets."""
        assert node.binding is not None
        strength, vs = node.binding
        if strength not in ("required", "extensible"):
            return
        if isinstance(item, str):
            ok: bool | None = any(code == item for _, code in vs.codes) or bool(vs.open_systems)
        elif isinstance(item, dict) and ("coding" in item or "code" in item):
            ok = _coded_ok(item, vs)
        else:
            return  # not a coded value: the base tier reports the wrong type
        if ok is None and strength == "required":
            why = f"{_leaf(at)} uses a code system of {vs.describe()} not held here: not checked"
            self.issues.append(issue("LD-PROFILE-BINDING-NOT-CHECKED", at, why))
        national = self.profile.national  # ours accept exactly what our ValueSets list
        if ok is False and strength == "required" and national and self._systems_unknown(item):
            why = (
                f"{_leaf(at)} uses a code system that is not in the required ValueSet "
                f"{vs.describe()} and not held here (another version's, perhaps): not judged"
            )
            self.issues.append(issue("LD-PROFILE-BINDING-UNKNOWN-SYSTEM", at, why))
        elif ok is False:
            message_id = (
                "LD-PROFILE-BINDING-REQUIRED"
                if strength == "required"
                else "LD-PROFILE-BINDING-EXTENSIBLE"
            )
            why = f"{_leaf(at)} must use a code from the {strength} ValueSet {vs.describe()}"
            self.issues.append(issue(message_id, at, why))

    def _systems_unknown(self, item: Any) -> bool:
        """Whether every coding names a system no package here defines (e.g. a retired one)."""
        codings = item.get("coding") if isinstance(item, dict) and "coding" in item else [item]
        systems = [c.get("system") for c in codings or () if isinstance(c, dict)]
        terminology = self.profiles.terminology
        return bool(systems) and all(
            isinstance(s, str) and terminology.canonical(s) is None for s in systems
        )

    def target(self, targets: frozenset[str], item: dict, at: str) -> None:
        """A Reference whose resource type we can tell points to a type the profile allows."""
        rtype = _referenced_type(item, self.env["resource"])
        if rtype is not None and rtype not in targets:
            allowed = ", ".join(sorted(targets))
            why = f"{_leaf(at)} must refer to {allowed} in {self.profile.name}, not to {rtype}"
            self.issues.append(issue("LD-PROFILE-REFERENCE-TARGET", f"{at}.reference", why))

    def invariant(self, inv: Invariant, item: Any, at: str) -> None:
        """One FHIRPath (or native) constraint on one item."""
        try:
            passed = inv.check(item, self.env)
        except RecursionError:
            raise  # the caller answers hostile nesting with LD-JSON-TOO-DEEP
        except Exception:  # a wrongly typed value (EvalError, ...) must never become a 500
            why = f"the invariant {inv.key} of {self.profile.name} could not be evaluated here"
            self.issues.append(issue("LD-PROFILE-INVARIANT-FAILED", at, why))
            return
        if passed is False:
            self.issues.append(issue(inv.message_id, at, f"{inv.key}: {inv.human}"))


def extension_issues(
    profiles: Profiles, resource: dict, path: str, warn_unknown: bool = True
) -> list[Issue]:
    """Every extension in a resource checked against its own definition, wherever it sits.

    Without a profile (warn_unknown False) an extension this adapter does not hold goes
    unremarked: nothing the resource claims says it matters.
    """
    if not _may_hold_extensions(resource):
        return []
    check = ExtensionCheck(profiles, resource, warn_unknown)
    check.extensions(resource, path, str(resource.get("resourceType")))
    return check.issues


class ExtensionCheck:
    """Checks the extensions of one resource against their definitions (ours, UK Core's)."""

    def __init__(self, profiles: Profiles, resource: dict, warn_unknown: bool) -> None:
        self.profiles = profiles
        self.resource = resource
        self.warn_unknown = warn_unknown
        self.issues: list[Issue] = []

    def extensions(self, data: Any, at: str, element: str) -> None:
        """Every extension in the resource: ours checked against their definition, others warned.

        `element` is the element path of `data` without indices (Patient.contact), for contexts.
        """
        if isinstance(data, list):
            for i, item in enumerate(data):
                if isinstance(item, dict | list):
                    self.extensions(item, f"{at}[{i}]", element)
            return
        if not isinstance(data, dict):
            return
        for key, value in data.items():
            # Only objects and arrays can hold extensions: a path is built for those alone.
            if not isinstance(value, dict | list) or key in ("contained", "resourceType"):
                continue
            if isinstance(value, dict) and "resourceType" in value:
                continue  # a Bundle entry's resource: checked on its own, against its profiles
            here = f"{at}.{key}"
            if key in ("extension", "modifierExtension") and isinstance(value, list):
                for i, ext in enumerate(value):
                    self.one_extension(ext, f"{here}[{i}]", element)
            # A Bundle's entries are walked one by one (their resources are skipped there).
            if key == "entry" or _may_hold_extensions(value):
                self.extensions(value, here, f"{element}.{key}")

    def one_extension(self, ext: Any, at: str, holder: str) -> None:
        """One extension: its value, parts and context by its definition, if held."""
        url = ext.get("url") if isinstance(ext, dict) else None
        if not isinstance(url, str) or "://" not in url:
            return  # a sub-extension of a complex extension: its parent's definition covers it
        definition = self.profiles.get(url)
        if definition is not None and definition.is_extension:
            inner = ProfileCheck(self.profiles, definition, self.resource)
            inner.value(definition.root, ext, at)
            self.issues.extend(inner.issues)
            contexts = definition.contexts
            if contexts is not None and not context_allows(contexts, holder):
                where = " or ".join(contexts)
                why = f"{definition.name} may be used on {where}, not on {holder}"
                self.issues.append(issue("LD-PROFILE-EXTENSION-CONTEXT", at, why))
        elif self.warn_unknown and url not in self.profiles.package.known_extensions:
            why = f"extension {url} is not defined by this adapter or UK Core; it will be ignored"
            self.issues.append(issue("LD-PROFILE-EXTENSION-UNKNOWN", f"{at}.url", why))


def _lookup(data: dict, name: str) -> tuple[str, Any]:
    """The JSON key and value of an element name; `value[x]` finds valueString etc."""
    if not name.endswith("[x]"):
        return name, data.get(name)
    base = name[:-3]
    for key, value in data.items():
        if key.startswith(base) and len(key) > len(base) and key[len(base)].isupper():
            return key, value
    return base, None


def _matches(pattern: Any, value: Any) -> bool:
    """FHIR pattern semantics: every property of the pattern present in the value."""
    if isinstance(pattern, dict):
        return isinstance(value, dict) and all(
            _matches(v, value.get(k)) for k, v in pattern.items()
        )
    if isinstance(pattern, list):
        return isinstance(value, list) and all(any(_matches(p, v) for v in value) for p in pattern)
    return pattern == value


def _coded_ok(item: dict, vs: Expansion) -> bool | None:
    """True: a coding is in the ValueSet; None: one may be (a system not held); else False."""
    codings = item.get("coding") if "coding" in item else [item]
    if not isinstance(codings, list):
        return None
    verdicts = [vs.contains(c.get("system"), c.get("code")) for c in codings if isinstance(c, dict)]
    if True in verdicts:
        return True
    return None if None in verdicts else False


def _referenced_type(reference: dict, resource: dict) -> str | None:
    """The resource type a Reference names (`type`, `Type/id`, or a contained `#id`), if any."""
    if isinstance(reference.get("type"), str):
        return str(reference["type"])
    ref = reference.get("reference")
    if not isinstance(ref, str):
        return None
    if ref.startswith("#"):
        contained = resource.get("contained")
        for item in contained if isinstance(contained, list) else ():
            if isinstance(item, dict) and item.get("id") == ref[1:]:
                rtype = item.get("resourceType")
                return rtype if isinstance(rtype, str) else None
        return None
    match = REFERENCE_TYPE.search(ref.split("/_history/", 1)[0])
    return match.group(1) if match else None


def _leaf(at: str) -> str:
    return at.rsplit(".", 1)[-1].split("[", 1)[0]


def _show(value: Any) -> str:
    """A fixed or pattern value from our profile (never payload data), short."""
    text = value if isinstance(value, str) else orjson.dumps(value).decode()
    return text if len(text) <= 120 else text[:117] + "..."


def nhs_number_issues(resource: dict, path: str) -> list[Issue]:
    """Every NHS number failing Modulus 11 anywhere in a resource (Bundle entries are their own)."""
    if resource.get("resourceType") != "Bundle" and not _mentions_nhs_system(resource):
        return []  # one C-speed scan spares most resources the walk below
    found = []
    stack: list[tuple[object, str]] = [(resource, path)]
    while stack:
        item, at = stack.pop()
        if isinstance(item, list):
            stack.extend((child, f"{at}[{i}]") for i, child in enumerate(item))
            continue
        if not isinstance(item, dict):
            continue
        value = item.get("value")
        nhs = item.get("system") == NHS_NUMBER_SYSTEM and isinstance(value, str)
        if nhs and not is_valid_nhs_number(value):  # type: ignore[arg-type]
            why = "the NHS number fails the Modulus 11 check digit test: it cannot be a real one"
            found.append(issue("LD-NHS-NUMBER-INVALID", f"{at}.value", why))
        skip = "entry" if item is resource and resource.get("resourceType") == "Bundle" else None
        stack.extend((child, f"{at}.{key}") for key, child in item.items() if key != skip)
    return sorted(found, key=lambda i: i.expression)


def _may_hold_extensions(data: dict | list) -> bool:
    """Whether an extension may sit anywhere in a resource or part of one (True when unsure)."""
    if isinstance(data, dict) and data.get("resourceType") == "Bundle":
        return True  # its entries are skipped by the walk: the text of all of them would mislead
    try:
        return EXTENSION_KEY in orjson.dumps(data)  # one C-speed scan spares the walk below
    except (orjson.JSONEncodeError, TypeError):
        return True


def _mentions_nhs_system(resource: dict) -> bool:
    """Whether the NHS number system appears anywhere in the resource (True when unsure)."""
    try:
        return NHS_SYSTEM_BYTES in orjson.dumps(resource)
    except (orjson.JSONEncodeError, TypeError):
        return True
