"""Golden outputs: the one helper that strips what changes from run to run before comparing."""

from __future__ import annotations


def strip_volatile(bundle: dict) -> dict:
    """Remove volatile fields: stored resources' lastUpdated, and the version of this software."""
    for entry in bundle.get("entry", ()):
        resource = entry["resource"]
        resource.get("meta", {}).pop("lastUpdated", None)
        if resource.get("resourceType") == "MessageHeader":
            resource.get("source", {}).pop("version", None)  # moves with every release
    return bundle
