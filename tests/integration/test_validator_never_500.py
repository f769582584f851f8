"""$validate answers wrongly typed bodies with an OperationOutcome, never a 500."""

from __future__ import annotations

import json

import pytest

FHIR_JSON = {"Content-Type": "application/fhir+json"}


@pytest.mark.parametrize("parameter", [5, True, 2.5])
def test_a_parameters_body_whose_parameter_is_not_a_list_gets_a_400(client, auth, parameter):  # type: ignore[no-untyped-def]
    body = json.dumps({"resourceType": "Parameters", "parameter": parameter})
    response = client.post("/fhir/$validate", data=body, headers={**auth, **FHIR_JSON})
    assert response.status_code == 400
    outcome = response.get_json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert outcome["issue"][0]["expression"] == ["Parameters.parameter"]
