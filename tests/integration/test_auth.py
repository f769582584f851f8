"""Bearer JWTs with SMART v2 system scopes guard everything but metadata and health checks."""

from __future__ import annotations

import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from adapter import create_app
from adapter.auth import parse_scopes
from adapter.settings import Settings


def issue_codes(response) -> list[str]:  # type: ignore[no-untyped-def]
    body = response.get_json()
    assert body["resourceType"] == "OperationOutcome"
    return [issue["code"] for issue in body["issue"]]


def test_metadata_and_health_need_no_token(client):
    assert client.get("/fhir/metadata").status_code == 200
    assert client.get("/healthz").status_code == 200
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.get_json()["database"] == "ok"


@pytest.mark.parametrize(
    "path", ["/api/referrals", "/fhir/ServiceRequest", "/fhir/Location/custody-telford"]
)
def test_no_token_is_401(client, path):
    response = client.get(path)
    assert response.status_code == 401
    assert issue_codes(response) == ["login"]
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_garbage_and_wrongly_signed_tokens_are_401(client, settings):
    forged = jwt.encode(
        {"scope": "system/*.cruds", "exp": time.time() + 60}, "not-the-right-key-" * 3, "HS256"
    )
    for token in ("garbage", forged):
        response = client.get("/api/referrals", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401


def test_expired_token_is_401_expired(client, token):
    expired = token("system/*.cruds", lifetime=-10)
    response = client.get("/api/referrals", headers={"Authorization": f"Bearer {expired}"})
    assert response.status_code == 401
    assert issue_codes(response) == ["expired"]


def test_missing_scope_is_403(client, token):
    headers = {"Authorization": f"Bearer {token('system/Patient.rs')}"}
    response = client.get("/api/referrals", headers=headers)
    assert response.status_code == 403
    assert set(issue_codes(response)) == {"forbidden"}
    assert "system/ServiceRequest.s" in response.get_json()["issue"][0]["diagnostics"]


def test_read_scope_cannot_create(client, token):
    headers = {"Authorization": f"Bearer {token('system/ServiceRequest.rs')}"}
    response = client.post("/api/referrals", json={}, headers=headers)
    assert response.status_code == 403


def test_specific_scope_is_enough(client, token):
    headers = {"Authorization": f"Bearer {token('system/Location.r')}"}
    assert client.get("/fhir/Location/custody-telford", headers=headers).status_code == 200
    assert client.get("/fhir/Location", headers=headers).status_code == 403


def test_scope_parsing():
    grants = parse_scopes(
        "openid system/ServiceRequest.rs patient/*.read system/Patient.read system/X.zz"
    )
    assert [(g.resource_type, g.interactions) for g in grants] == [
        ("ServiceRequest", "rs"),
        ("Patient", "rs"),
    ]


def test_rs256_with_a_jwks_file(tmp_path, fhirjs_checked_bodies):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    public_jwk.update(kid="test-key", use="sig", alg="RS256")
    jwks_file = tmp_path / "jwks.json"
    jwks_file.write_text(json.dumps({"keys": [public_jwk]}))
    settings = Settings(
        home=tmp_path, jwt_algorithm="RS256", jwks_file=jwks_file, jwt_audience="ld-adapter"
    )
    app = create_app(settings)
    client = app.test_client()

    def bearer(**claims: object) -> dict[str, str]:
        body = {"scope": "system/*.cruds", "exp": time.time() + 60, "aud": "ld-adapter", **claims}
        signed = jwt.encode(body, key, algorithm="RS256", headers={"kid": "test-key"})
        return {"Authorization": f"Bearer {signed}"}

    assert client.get("/api/referrals", headers=bearer()).status_code == 200
    assert client.get("/api/referrals", headers=bearer(aud="someone-else")).status_code == 401
    hs256 = jwt.encode({"scope": "system/*.cruds", "exp": time.time() + 60}, "k" * 32, "HS256")
    assert (
        client.get("/api/referrals", headers={"Authorization": f"Bearer {hs256}"}).status_code
        == 401
    )
    app.extensions["ld_adapter"].store.dispose()


def test_rs256_with_a_jwks_url(tmp_path, fhirjs_checked_bodies):
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    public_jwk.update(kid="url-key", use="sig", alg="RS256")
    document = json.dumps({"keys": [public_jwk]}).encode()

    class JwksHandler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(document)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), JwksHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/.well-known/jwks.json"
        app = create_app(Settings(home=tmp_path, jwt_algorithm="RS256", jwks_url=url))
        signed = jwt.encode(
            {"scope": "system/ServiceRequest.s", "exp": time.time() + 60},
            key,
            algorithm="RS256",
            headers={"kid": "url-key"},
        )
        client = app.test_client()
        ok = client.get("/fhir/ServiceRequest", headers={"Authorization": f"Bearer {signed}"})
        assert ok.status_code == 200
        unknown_kid = jwt.encode(
            {"scope": "system/*.cruds", "exp": time.time() + 60},
            key,
            algorithm="RS256",
            headers={"kid": "other"},
        )
        refused = client.get("/api/referrals", headers={"Authorization": f"Bearer {unknown_kid}"})
        assert refused.status_code == 401
        app.extensions["ld_adapter"].store.dispose()
    finally:
        server.shutdown()
        server.server_close()
