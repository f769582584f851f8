"""UK Core and BaRS definitions (conformance/national/): a second package, read on first use."""

from __future__ import annotations

import functools

import orjson

from adapter.conformance.package import PACKAGE_DIR, Package

NATIONAL_DIR = PACKAGE_DIR / "national"


@functools.cache
def national_package() -> Package:
    """The published national definitions we validate against (never published as ours)."""
    return Package(NATIONAL_DIR)


@functools.cache
def national_sources() -> dict[str, dict]:
    """Where each national package came from: repository, commit, name, version, licence."""
    return orjson.loads((NATIONAL_DIR / "SOURCES.json").read_bytes())
