"""Bad requests of every kind get a 4xx OperationOutcome, never a 500, and store nothing."""

from __future__ import annotations

import pytest

from adapter.settings import Settings


def outcome(response) -> dict:  # type: ignore[no-untyped-def]
    body = response.get_json()
    assert body["resourceType"] == "OperationOutcome", body
    assert body["issue"], body
    return body


def assert_nothing_stored(client, auth) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/api/referrals", headers=auth).get_json()["total"] == 0


@pytest.mark.parametrize(
    ("data", "content_type", "status", "code"),
    [
        (b"{not json", "application/json", 400, "structure"),
        (b"", "application/json", 400, "invalid"),
        (b'{"local_id": "x"}', "text/plain", 415, "not-supported"),
        (b'{"local_id": "x"}', "application/xml", 415, "not-supported"),
        (b"[1, 2, 3]", "application/json", 400, "invalid"),
        (b'"just a string"', "application/json", 400, "invalid"),
        (b"[" * 100 + b"]" * 100, "application/json", 400, "too-costly"),
        (b"[" * 5000 + b"]" * 5000, "application/json", 400, "too-costly"),
        (
            b'{"local_id": ' + b'{"a":' * 80 + b"1" + b"}" * 80 + b"}",
            "application/json",
            400,
            "too-costly",
        ),
    ],
)
def test_malformed_bodies(client, auth, data, content_type, status, code):
    response = client.post(
        "/api/referrals", data=data, headers={**auth, "Content-Type": content_type}
    )
    assert response.status_code == status
    assert outcome(response)["issue"][0]["code"] == code
    assert_nothing_stored(client, auth)


def test_wrong_types_are_named(client, auth):
    response = client.post(
        "/api/referrals",
        json={"local_id": 17, "received_at": True, "person": "someone", "concerns": "alcohol"},
        headers=auth,
    )
    assert response.status_code == 400
    named = {e for issue in outcome(response)["issue"] for e in issue.get("expression", [])}
    assert {"local_id", "received_at", "person", "concerns"} <= named


def test_body_over_the_limit_is_413(tmp_path, fhirjs_checked_bodies):
    from adapter import create_app
    from adapter.auth import mint_dev_token

    settings = Settings(home=tmp_path, max_body_bytes=2048)
    app = create_app(settings)
    client = app.test_client()
    headers = {"Authorization": f"Bearer {mint_dev_token(settings, ['system/*.cruds'])}"}
    response = client.post(
        "/api/referrals",
        data=b'{"notes": ["' + b"x" * 4096 + b'"]}',
        headers={**headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert outcome(response)["issue"][0]["code"] == "too-costly"
    app.extensions["ld_adapter"].store.dispose()


def test_unknown_route_and_method(client, auth):
    missing = client.get("/api/nowhere", headers=auth)
    assert missing.status_code == 404
    assert outcome(missing)["issue"][0]["code"] == "not-found"
    wrong_method = client.delete("/api/referrals", headers=auth)
    assert wrong_method.status_code == 405
    assert outcome(wrong_method)["issue"][0]["code"] == "not-supported"


def test_errors_carry_the_nhs_http_error_code(client, auth):
    response = client.post(
        "/api/referrals", data=b"{", headers={**auth, "Content-Type": "application/json"}
    )
    codings = outcome(response)["issue"][0]["details"]["coding"]
    assert {
        "system": "https://fhir.nhs.uk/Codesystem/http-error-codes",
        "code": "REC_BAD_REQUEST",
    } in codings
