"""Reference checks: format, target type, and resolution inside a bundle or to contained."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from adapter.conformance.bundle import RESTFUL, SELF_CONTAINED, BundleIndex
from adapter.conformance.messages import issue
from adapter.errors import Issue

CONDITIONAL_OK = frozenset({"transaction", "batch"})
CONDITIONAL = re.compile(r"[A-Z][A-Za-z]+\?")  # Patient?identifier=...


@dataclass
class Scope:
    """What a reference can resolve against: the container's contained ids, the bundle."""

    container_type: str
    contained: dict[str, str] = field(default_factory=dict)  # contained id -> resource type
    bundle: BundleIndex | None = None
    base: str | None = None  # RESTful base of the entry's fullUrl


def check_reference(
    ref: dict,
    targets: frozenset[str] | None,
    path: str,
    scope: Scope,
    resource_types: frozenset[str],
) -> list[Issue]:
    """Problems with one Reference: unresolvable, malformed, or pointing at a wrong type."""
    text = ref.get("reference")
    declared = ref.get("type") if isinstance(ref.get("type"), str) else None
    found: str | None = None
    problems: list[Issue] = []
    if isinstance(text, str) and text:
        found, problem = _target_type(text, f"{path}.reference", scope, resource_types)
        if problem:
            problems.append(problem)
    if declared and found and declared != found:
        problems.append(
            issue(
                "LD-REF-TYPE-MISMATCH",
                f"{path}.type",
                "Reference.type disagrees with the type of the resource referenced",
            )
        )
    actual = found or (declared if declared in resource_types else None)
    if actual and targets and actual not in targets:
        where = f"{path}.reference" if found else f"{path}.type"
        problems.append(
            issue(
                "LD-REF-TARGET-TYPE",
                where,
                f"this reference must point to {' | '.join(sorted(targets))}; "
                "it points to another resource type",
            )
        )
    return problems


def _target_type(
    text: str, path: str, scope: Scope, resource_types: frozenset[str]
) -> tuple[str | None, Issue | None]:
    """Type of the referenced resource (None if unknowable) and any problem found on the way."""
    if text.startswith("#"):
        if text == "#":
            return scope.container_type, None
        if text[1:] in scope.contained:
            return scope.contained[text[1:]], None
        why = "a local reference must name the id of a contained resource (ref-1)"
        return None, issue("LD-REF-CONTAINED-MISSING", path, why)
    bundle = scope.bundle
    in_bundle = bundle.resolve(text, scope.base) if bundle else None
    if text.startswith(("urn:uuid:", "urn:oid:")):
        if bundle is not None and in_bundle is None:
            why = "no entry in this bundle has this fullUrl; a urn:uuid reference must resolve"
            return None, issue("LD-REF-UNRESOLVED-UUID", path, why)
        return in_bundle, None
    if CONDITIONAL.match(text):
        return _conditional(text, path, bundle, resource_types)
    restful = RESTFUL.fullmatch(text)
    if restful and restful["type"] not in resource_types:
        why = "the type part of this reference is not an R4 resource type"
        return None, issue("LD-REF-FORMAT", path, why)
    if not restful and "://" not in text:
        why = "a reference must be [type]/[id], an absolute URL, urn:uuid:, urn:oid: or #id"
        return None, issue("LD-REF-FORMAT", path, why)
    found = in_bundle or (restful["type"] if restful else None)
    if bundle is not None and in_bundle is None and bundle.bundle_type in SELF_CONTAINED:
        why = f"this reference points outside the {bundle.bundle_type} bundle; "
        why += "the receiver must resolve it"
        return found, issue("LD-REF-OUTSIDE-BUNDLE", path, why)
    return found, None


def _conditional(
    text: str, path: str, bundle: BundleIndex | None, resource_types: frozenset[str]
) -> tuple[str | None, Issue | None]:
    """`Patient?identifier=...`: a search the server resolves, only inside a transaction/batch."""
    rtype = text.split("?", 1)[0]
    if bundle is None or bundle.bundle_type not in CONDITIONAL_OK:
        why = "a conditional reference ([type]?[search]) is only allowed in a transaction or batch"
        return None, issue("LD-REF-FORMAT", path, why)
    if rtype not in resource_types:
        return None, issue("LD-REF-FORMAT", path, "the type part is not an R4 resource type")
    return rtype, None
