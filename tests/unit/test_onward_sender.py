"""Who an onward referral says it is from: our trust, found in the service directory by ODS code."""

from __future__ import annotations

from dataclasses import replace

import pytest

from adapter.errors import Unprocessable
from adapter.services.onward_messages import sender
from adapter.settings import Settings

ODS = "https://fhir.nhs.uk/Id/ods-organization-code"


def _organization(org_id: str, ods: str) -> dict:
    return {
        "resourceType": "Organization",
        "id": org_id,
        "identifier": [{"system": ODS, "value": ods}],
    }


def test_the_sender_is_the_directory_organisation_with_our_ods_code() -> None:
    settings = replace(Settings(), ods_code="RRE")
    location = {
        "resourceType": "Location",
        "id": "RRE",
        "identifier": [{"system": ODS, "value": "RRE"}],
    }
    directory = [location, _organization("other", "RX1"), _organization("ours", "RRE")]
    assert sender(settings, directory).organization["id"] == "ours"


def test_without_our_organisation_in_the_directory_nothing_can_be_sent() -> None:
    settings = replace(Settings(), ods_code="RRE")
    with pytest.raises(Unprocessable) as refused:
        sender(settings, [_organization("other", "RX1")])
    assert "LD_ADAPTER_ODS_CODE" in refused.value.issues[0].diagnostics
