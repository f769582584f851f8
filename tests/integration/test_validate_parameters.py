"""$validate reads a Parameters body defensively: a wrongly shaped one is a 400, never a 500."""

from __future__ import annotations

FHIR_JSON = {"Content-Type": "application/fhir+json"}


def test_a_parameter_that_is_not_a_list_is_a_400_naming_it(client, auth):
    body = b'{"resourceType": "Parameters", "parameter": 5}'
    response = client.post("/fhir/$validate", data=body, headers={**auth, **FHIR_JSON})
    assert response.status_code == 400
    assert response.get_json()["issue"][0]["expression"] == ["Parameters.parameter"]
