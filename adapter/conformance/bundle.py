"""Bundle rules: an index of entries for reference resolution, and the bdl-* invariants."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from adapter.conformance.definitions import definitions
from adapter.conformance.messages import issue
from adapter.errors import Issue

# [base/]Type/id[/_history/vid], the RESTful form of a literal reference or fullUrl.
RESTFUL = re.compile(
    r"(?:(?P<base>(?:https?|urn)[^\s]*?)/)?(?P<type>[A-Z][A-Za-z]+)/(?P<id>[A-Za-z0-9\-\.]{1,64})"
    r"(?:/_history/[A-Za-z0-9\-\.]{1,64})?"
)
# Bundle types whose references must all resolve, or be knowingly external (warned about).
SELF_CONTAINED = frozenset({"message", "transaction"})
REQUEST_TYPES = frozenset({"batch", "transaction", "history"})
RESPONSE_TYPES = frozenset({"batch-response", "transaction-response", "history"})


@dataclass
class BundleIndex:
    """fullUrl and Type/id lookups over one Bundle's entries, built once per bundle."""

    bundle_type: str | None
    by_url: dict[str, str] = field(default_factory=dict)  # fullUrl -> resource type
    by_type_id: dict[tuple[str, str], str] = field(default_factory=dict)
    base_of: dict[int, str | None] = field(default_factory=dict)  # id(resource) -> base URL

    @classmethod
    def build(cls, bundle: dict) -> BundleIndex:
        """Index every entry that has a resource with a resourceType."""
        btype = bundle.get("type")
        index = cls(btype if isinstance(btype, str) else None)
        for _, entry in _entries(bundle):
            resource = entry.get("resource")
            if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
                continue
            rtype = resource["resourceType"]
            full_url = entry.get("fullUrl")
            base = None
            if isinstance(full_url, str):
                index.by_url.setdefault(full_url, rtype)
                found = RESTFUL.fullmatch(full_url)
                if found:
                    base = found["base"]
                    index.by_type_id.setdefault((found["type"], found["id"]), rtype)
            if isinstance(resource.get("id"), str):
                index.by_type_id.setdefault((rtype, resource["id"]), rtype)
            index.base_of[id(resource)] = base
        return index

    def resolve(self, reference: str, base: str | None) -> str | None:
        """Resource type of the entry a reference points at, None if not in the bundle."""
        if reference in self.by_url:
            return self.by_url[reference]
        found = RESTFUL.fullmatch(reference)
        if not found:
            return None
        if not found["base"] and base and f"{base}/{reference}" in self.by_url:
            return self.by_url[f"{base}/{reference}"]
        return self.by_type_id.get((found["type"], found["id"]))


def _entries(bundle: dict) -> Iterator[tuple[int, dict]]:
    entries = bundle.get("entry")
    if isinstance(entries, list):
        for i, entry in enumerate(entries):
            if isinstance(entry, dict):
                yield i, entry


def bundle_issues(bundle: dict, path: str) -> list[Issue]:
    """The bdl-* invariants of R4 Bundle, each reported at the entry that breaks it."""
    btype = bundle.get("type")
    issues: list[Issue] = []
    seen: dict[tuple[str, object], int] = {}
    for i, entry in _entries(bundle):
        at = f"{path}.entry[{i}]"
        issues.extend(_entry_issues(entry, at, btype))
        full_url = entry.get("fullUrl")
        if not isinstance(full_url, str):
            continue
        if "/_history/" in full_url:
            issues.append(
                issue(
                    "LD-BUNDLE-FULLURL-VERSIONED",
                    f"{at}.fullUrl",
                    "fullUrl must not be version specific (bdl-8)",
                )
            )
        resource = entry.get("resource")
        issues.extend(_full_url_issues(full_url, resource, f"{at}.fullUrl"))
        meta = resource.get("meta") if isinstance(resource, dict) else None
        version = meta.get("versionId") if isinstance(meta, dict) else None
        key = (full_url, version)
        if key in seen:
            issues.append(
                issue(
                    "LD-BUNDLE-DUPLICATE-FULLURL",
                    f"{at}.fullUrl",
                    f"fullUrl repeats that of entry[{seen[key]}]; fullUrls must be unique (bdl-7)",
                )
            )
        else:
            seen[key] = i
    issues.extend(_type_issues(bundle, path, btype))
    return issues


def _full_url_issues(full_url: str, resource: object, at: str) -> Iterator[Issue]:
    """A RESTful fullUrl (`[base]/Type/id`) must name the resource's own type and id."""
    found = RESTFUL.fullmatch(full_url)
    if not found or not found["base"] or not isinstance(resource, dict):
        return
    rtype, rid = resource.get("resourceType"), resource.get("id")
    if not isinstance(rtype, str) or found["type"] not in definitions().resource_types:
        return
    if found["type"] != rtype:
        why = f"fullUrl names a {found['type']} but the entry holds a {rtype}"
        yield issue("LD-BUNDLE-FULLURL-MISMATCH", at, why)
    elif isinstance(rid, str) and found["id"] != rid:
        why = "the id at the end of fullUrl must be the resource's id"
        yield issue("LD-BUNDLE-FULLURL-MISMATCH", at, why)


def _entry_issues(entry: dict, at: str, btype: object) -> Iterator[Issue]:
    if not any(k in entry for k in ("resource", "request", "response")):
        yield issue(
            "LD-BUNDLE-ENTRY-EMPTY",
            at,
            "an entry must have a resource, request or response (bdl-5)",
        )
    if not isinstance(btype, str):
        return
    if "request" in entry and btype not in REQUEST_TYPES:
        yield issue(
            "LD-BUNDLE-REQUEST",
            f"{at}.request",
            "entry.request is only allowed in batch, transaction or history bundles (bdl-3)",
        )
    if "request" not in entry and btype in REQUEST_TYPES:
        yield issue(
            "LD-BUNDLE-REQUEST", at, f"entry.request is mandatory in a {btype} bundle (bdl-3)"
        )
    if "response" in entry and btype not in RESPONSE_TYPES:
        yield issue(
            "LD-BUNDLE-RESPONSE",
            f"{at}.response",
            "entry.response is only allowed in response or history bundles (bdl-4)",
        )
    if "response" not in entry and btype in RESPONSE_TYPES:
        yield issue(
            "LD-BUNDLE-RESPONSE", at, f"entry.response is mandatory in a {btype} bundle (bdl-4)"
        )
    if "search" in entry and btype != "searchset":
        yield issue(
            "LD-BUNDLE-SEARCH",
            f"{at}.search",
            "entry.search is only allowed in a searchset (bdl-2)",
        )


def _type_issues(bundle: dict, path: str, btype: object) -> Iterator[Issue]:
    if "total" in bundle and btype not in ("searchset", "history"):
        yield issue(
            "LD-BUNDLE-TOTAL",
            f"{path}.total",
            "total is only allowed in a searchset or history (bdl-1)",
        )
    first = next(_entries(bundle), (0, {}))[1].get("resource")
    first_type = first.get("resourceType") if isinstance(first, dict) else None
    if btype == "message" and first is not None and first_type != "MessageHeader":
        yield issue(
            "LD-BUNDLE-FIRST-ENTRY",
            f"{path}.entry[0].resource",
            "the first entry of a message bundle must be a MessageHeader (bdl-12)",
        )
    if btype == "document":
        if first is not None and first_type != "Composition":
            yield issue(
                "LD-BUNDLE-FIRST-ENTRY",
                f"{path}.entry[0].resource",
                "the first entry of a document bundle must be a Composition (bdl-11)",
            )
        ident = bundle.get("identifier")
        if not (isinstance(ident, dict) and "system" in ident and "value" in ident):
            yield issue(
                "LD-BUNDLE-DOCUMENT",
                path,
                "a document bundle needs identifier.system and identifier.value (bdl-9)",
            )
        if "timestamp" not in bundle:
            yield issue("LD-BUNDLE-DOCUMENT", path, "a document bundle needs a timestamp (bdl-10)")
