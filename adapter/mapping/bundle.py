"""FHIR `collection` Bundles of the resources a mapping makes."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from adapter.mapping.referral import ReferralResources


def collection_bundle(resources: Iterable[dict], base_url: str) -> dict:
    """A collection Bundle; each entry's fullUrl is `{base_url}/{type}/{id}`."""
    base = base_url.rstrip("/")
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {"fullUrl": f"{base}/{r['resourceType']}/{r['id']}", "resource": r} for r in resources
        ],
    }


def referral_bundle(resources: ReferralResources, base_url: str) -> dict:
    """The resources of one referral as a collection Bundle."""
    return collection_bundle(resources.all(), base_url)
