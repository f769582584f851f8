"""The raw-JSON walker: every structural, value, binding and reference problem in one pass."""

from __future__ import annotations

import re

from adapter.conformance.bundle import BundleIndex, bundle_issues
from adapter.conformance.definitions import Definitions, Element, ElementMap
from adapter.conformance.messages import issue, json_type
from adapter.conformance.primitives import check_primitive, check_text
from adapter.conformance.references import Scope, check_reference
from adapter.errors import Issue

CODED = frozenset({"CodeableConcept", "Coding"})
URI_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:.")  # whitespace: the uri type's own regex
ELEMENT_NAME = re.compile(r"_?[a-z][A-Za-z0-9]{0,63}")


class Walker:
    """Walks parsed JSON against the R4 definitions, collecting issues; one instance per payload."""

    def __init__(self, defs: Definitions) -> None:
        self.defs = defs
        self.issues: list[Issue] = []
        self.scope = Scope("Resource")
        self._element_map = defs.type_map("Element")
        self._extension_map = defs.type_map("Extension")
        self._in_extension = False  # an Extension's own extensions have relative urls
        self.env: dict = {"resource": None, "rootResource": None}  # FHIRPath %resource etc.

    def resource(self, data: object, path: str, contained: bool = False) -> None:
        """Check one resource (top level, contained, or in a bundle entry)."""
        if not isinstance(data, dict):
            self._wrong_type(data, "a resource (JSON object)", path)
            return
        rtype = data.get("resourceType")
        if not isinstance(rtype, str) or not rtype:
            self.issues.append(
                issue("LD-STRUCT-NO-RESOURCE-TYPE", path, "a resource needs a resourceType")
            )
            return
        cmap = self.defs.type_map(rtype) if rtype in self.defs.resource_types else None
        if cmap is None:
            why = "resourceType is not a FHIR R4 (4.0.1) resource type"
            self.issues.append(
                issue("LD-STRUCT-UNKNOWN-RESOURCE-TYPE", f"{path}.resourceType".lstrip("."), why)
            )
            return
        path = path or rtype
        saved, saved_env = self.scope, self.env
        if not contained:
            self.scope = self._scope_for(data, rtype, saved)
        root = saved_env["rootResource"] if contained else data
        self.env = {"resource": data, "rootResource": root}
        self.check_object(data, cmap, path, is_resource=True)
        if rtype == "Bundle":
            self.issues.extend(bundle_issues(data, path))
        self.scope, self.env = saved, saved_env

    def _scope_for(self, data: dict, rtype: str, outer: Scope) -> Scope:
        bundle, base = outer.bundle, outer.base
        if bundle is not None and id(data) in bundle.base_of:
            base = bundle.base_of[id(data)]
        if rtype == "Bundle":
            bundle, base = BundleIndex.build(data), None
        contained = {}
        if isinstance(data.get("contained"), list):
            for res in data["contained"]:
                if isinstance(res, dict) and isinstance(res.get("id"), str):
                    contained[res["id"]] = str(res.get("resourceType"))
        return Scope(rtype, contained, bundle, base)

    def check_object(
        self, data: dict, cmap: ElementMap, path: str, is_resource: bool = False
    ) -> None:
        """Check the keys of one JSON object against an element map."""
        if not data:
            self.issues.append(
                issue("LD-STRUCT-EMPTY-OBJECT", path, "an element must not be an empty object")
            )
            return
        elements = cmap.elements
        choices: dict[str, list[str]] = {}
        is_extension = cmap is self._extension_map
        nested, self._in_extension = self._in_extension, is_extension
        check_element = self.element
        for key, value in data.items():
            if key[:1] == "_":
                self._primitive_extension(data, key, value, elements.get(key[1:]), path)
                if key[1:] in elements and key[1:] not in data:
                    self._note_choice(choices, elements[key[1:]])
                continue
            element = elements.get(key)
            if element is None:
                if not (is_resource and key == "resourceType"):
                    self._unknown(key, path)
                continue
            if element.choice:
                choices.setdefault(element.choice, []).append(element.key)
            # The `_key` sibling matters to primitives only (and to a null of any element).
            sibling = data.get("_" + key) if element.primitive or value is None else None
            check_element(value, element, f"{path}.{key}", sibling)
        self._in_extension = nested
        for name, found in choices.items():
            if len(found) > 1:
                why = f"{name} allows one type only; found {len(found)} ({', '.join(found)})"
                self.issues.append(issue("LD-STRUCT-MULTIPLE-CHOICE", f"{path}.{found[1]}", why))
        for name, keys in cmap.required:
            if not any(k in data or "_" + k in data for k in keys):
                why = f"missing required element {name} (min 1)"
                self.issues.append(
                    issue("LD-REQUIRED-MISSING", f"{path}.{name.removesuffix('[x]')}", why)
                )
        if is_extension:
            self._extension_rules(data, path, nested)
        elif not is_resource and len(data) == 1 and "id" in data:
            why = "ele-1: All FHIR elements must have a @value or children (an id alone is not one)"
            self.issues.append(issue("LD-ELEMENT-ID-ONLY", path, why))
        if cmap.invariants is not None:
            self.issues.extend(cmap.invariants.evaluate(data, self.env, path))

    @staticmethod
    def _note_choice(choices: dict[str, list[str]], element: Element) -> None:
        if element.choice:
            choices.setdefault(element.choice, []).append(element.key)

    def _unknown(self, key: str, path: str) -> None:
        # Name the key only when it looks like an element name: a key could carry patient data.
        named = f"'{key}'" if ELEMENT_NAME.fullmatch(key) else "with this name"
        why = f"unknown element {named}: not part of this FHIR R4 type"
        self.issues.append(issue("LD-STRUCT-UNKNOWN-ELEMENT", f"{path}.{key}", why))

    def element(self, value: object, element: Element, path: str, sibling: object = None) -> None:
        """Check one element's value: cardinality, then each item."""
        if value is None:
            if sibling is None:
                self.issues.append(issue("LD-STRUCT-NULL", path, f"{element.key} must not be null"))
            return
        if not element.is_list:
            if isinstance(value, list):
                why = f"{element.key} takes a single value (max 1); found a JSON array"
                self.issues.append(issue("LD-STRUCT-UNEXPECTED-ARRAY", path, why))
                return
            self.item(value, element, path)
            return
        if not isinstance(value, list):
            why = f"{element.key} must be a JSON array (max *); found a JSON {json_type(value)}"
            self.issues.append(issue("LD-STRUCT-EXPECTED-ARRAY", path, why))
            self.item(value, element, path)
            return
        if not value:
            why = f"{element.key} must be omitted rather than an empty array"
            self.issues.append(issue("LD-STRUCT-EMPTY-ARRAY", path, why))
        extras = sibling if isinstance(sibling, list) else ()
        for i, item in enumerate(value):
            if item is None and element.primitive and i < len(extras) and extras[i] is not None:
                continue  # the value lives in the `_key` extension array
            if item is None:
                self.issues.append(
                    issue("LD-STRUCT-NULL", f"{path}[{i}]", f"{element.key} items must not be null")
                )
                continue
            self.item(item, element, f"{path}[{i}]")

    def item(self, value: object, element: Element, path: str) -> None:
        """Check one value of an element against its type."""
        prim = element.primitive
        if prim is not None:
            if type(value) is str and prim.json_type == "string":  # most values: one call less
                problem = check_text(value, prim, path)
            else:
                problem = check_primitive(value, prim, path)
            if problem:
                self.issues.append(problem)
                return
            if element.value_set and value not in element.value_set.codes:
                self._not_in_value_set(element, path)
            if element.invariants is not None:
                self.issues.extend(element.invariants.evaluate(value, self.env, path))
            return
        if element.type == "Resource":
            self.resource(value, path, contained=element.key == "contained")
            return
        if not isinstance(value, dict):
            self._wrong_type(value, f"a {element.type} (JSON object)", path)
            return
        cmap = element.children or self.defs.type_map(element.type)
        if cmap is None:
            return
        self.check_object(value, cmap, path)
        if element.invariants is not None:
            self.issues.extend(element.invariants.evaluate(value, self.env, path))
        if element.type == "Reference":
            found = check_reference(
                value, element.targets, path, self.scope, self.defs.resource_types
            )
            self.issues.extend(found)
        elif element.value_set and element.type in CODED:
            self._coded(value, element, path)

    def _primitive_extension(
        self, data: dict, key: str, value: object, element: Element | None, path: str
    ) -> None:
        """`_key` holds id/extension of primitive `key`: an object, or an array aligned with it."""
        if element is None or element.primitive is None or self._element_map is None:
            self._unknown(key, path)
            return
        at = f"{path}.{key[1:]}"
        if not element.is_list:
            if isinstance(value, dict):
                self.check_object(value, self._element_map, at)
            else:
                self._wrong_type(value, "a JSON object", at)
            return
        values = data.get(key[1:])
        if not isinstance(value, list) or (isinstance(values, list) and len(values) != len(value)):
            why = f"{key} must be an array as long as {key[1:]}"
            self.issues.append(issue("LD-STRUCT-PRIMITIVE-EXT-MISMATCH", at, why))
            return
        for i, extra in enumerate(value):
            if isinstance(extra, dict):
                self.check_object(extra, self._element_map, f"{at}[{i}]")
            elif extra is not None:
                self._wrong_type(extra, "a JSON object or null", f"{at}[{i}]")

    def _coded(self, value: dict, element: Element, path: str) -> None:
        """A required binding on Coding/CodeableConcept: one coding must come from the value set."""
        vs = element.value_set
        assert vs is not None
        codings = [value] if element.type == "Coding" else value.get("coding")
        codings = codings if isinstance(codings, list) else []
        for i, coding in enumerate(codings):
            system = coding.get("system") if isinstance(coding, dict) else None
            if not isinstance(system, str) or system not in vs.systems:
                continue
            code = coding.get("code")
            if isinstance(code, str) and code in vs.codes:
                return
            at = path if element.type == "Coding" else f"{path}.coding[{i}]"
            self._not_in_value_set(element, f"{at}.code")
            return
        self._not_in_value_set(element, path)

    def _not_in_value_set(self, element: Element, path: str) -> None:
        vs = element.value_set
        assert vs is not None
        choices = ", ".join(sorted(vs.codes)) if len(vs.codes) <= 12 else f"{len(vs.codes)} codes"
        why = f"{element.key} must use a code from the required ValueSet {vs.name} ({choices})"
        self.issues.append(issue("LD-CODE-NOT-IN-VALUESET", path, why))

    def _extension_rules(self, data: dict, path: str, nested: bool) -> None:
        url = data.get("url")
        if not nested and isinstance(url, str) and url and not URI_SCHEME.match(url):
            why = "Extension.url must be an absolute URI naming the extension's definition"
            self.issues.append(issue("LD-EXT-URL-NOT-ABSOLUTE", f"{path}.url", why))
        has_value = any(k.startswith("value") or k.startswith("_value") for k in data)
        if has_value and "extension" in data:
            why = "an extension must have either a value or nested extensions, not both (ext-1)"
            self.issues.append(issue("LD-EXT-VALUE-AND-CHILDREN", path, why))
        elif not has_value and "extension" not in data:
            why = "an extension must have a value or nested extensions (ext-1)"
            self.issues.append(issue("LD-EXT-NO-VALUE", path, why))

    def _wrong_type(self, value: object, expected: str, path: str) -> None:
        why = f"expected {expected}; found a JSON {json_type(value)}"
        self.issues.append(issue("LD-STRUCT-WRONG-JSON-TYPE", path, why))
