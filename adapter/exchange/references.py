"""References inside a message: keep those that resolve in it, drop or replace the rest.

A message must not point at what the partner was not given. A reference to a resource outside the
message is dropped where it stands (an optional element, or one item of a list), except a reference
to a ServiceRequest: that is the L&D referral a request is based on, and it becomes a logical
reference by our identifier for it, so a reply can name it without the partner seeing it.
"""

from __future__ import annotations

from adapter.conformance.bundle import RESTFUL
from adapter.mapping import codes

_DROP = object()


def keep_resolvable(resource: dict, included: set[tuple[str, str]]) -> dict:
    """A copy of resource whose literal references all point at `included` (type, id) pairs."""
    result = _walk(resource, included, top=True)
    return result if isinstance(result, dict) else {}


def _walk(value: object, included: set[tuple[str, str]], top: bool = False) -> object:
    if isinstance(value, list):
        items = [_walk(item, included) for item in value]
        kept = [item for item in items if item is not _DROP]
        return kept or _DROP
    if not isinstance(value, dict):
        return value
    if not top and isinstance(value.get("reference"), str):
        return _reference(value, included)
    out = {}
    for key, item in value.items():
        walked = _walk(item, included)
        if walked is not _DROP:
            out[key] = walked
    return out


def _reference(ref: dict, included: set[tuple[str, str]]) -> object:
    text = ref["reference"]
    if text.startswith("#"):
        return ref  # contained: travels with its resource
    found = RESTFUL.fullmatch(text)
    if found is None or found["base"]:
        return _DROP  # absolute URLs and urn: ids point at things the partner was not sent
    key = (found["type"], found["id"])
    if key in included:
        return ref
    if found["type"] == "ServiceRequest":
        system = codes.url("identifier.ld-referral")
        return {"type": "ServiceRequest", "identifier": {"system": system, "value": found["id"]}}
    return _DROP
