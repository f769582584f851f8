"""The resources of one referral as a FHIR `collection` Bundle."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from adapter.mapping.referral import ReferralResources


def referral_bundle(resources: ReferralResources, base_url: str) -> dict:
    """A collection Bundle; each entry's fullUrl is `{base_url}/{type}/{id}`."""
    base = base_url.rstrip("/")
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {"fullUrl": f"{base}/{r['resourceType']}/{r['id']}", "resource": r}
            for r in resources.all()
        ],
    }
