"""The token endpoint (SMART Backend Services) and tokens of an external identity provider."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import jwt
import pytest
from fastapi.testclient import TestClient

from tests.api.fixtures import patient
from tests.auth_support import (
    ROOT,
    Registrar,
    assertion,
    auth_client,
    new_key,
    token_form,
)


@pytest.fixture
def secured(tmp_path: Path) -> Iterator[TestClient]:
    # the token endpoint does not touch the store: one adapter is enough here
    with auth_client("sqlite", tmp_path) as client:
        yield client


def _token(client: TestClient, form: dict[str, str]) -> tuple[int, dict]:
    response = client.post("/auth/token", data=form)
    assert response.headers.get("Cache-Control") == "no-store"
    return response.status_code, response.json()


def test_a_registered_client_gets_a_short_lived_token(secured: TestClient) -> None:
    registrar = Registrar(secured)
    client_id, key = registrar.register("system/Patient.rs system/Observation.cruds", "HFR-1")
    status, body = _token(secured, token_form(assertion(client_id, key)))
    assert status == 200
    assert body["token_type"] == "bearer" and body["expires_in"] == 300
    assert body["scope"] == "system/Patient.rs system/Observation.cruds"
    # the token verifies with the published key and names client and facility
    jwks = secured.get("/auth/jwks").json()
    public = jwt.PyJWK(jwks["keys"][0]).key
    claims = jwt.decode(body["access_token"], public, algorithms=["ES256"], audience=ROOT + "/fhir")
    assert claims["sub"] == client_id and claims["facility"] == "HFR-1"
    assert claims["exp"] - claims["iat"] == 300
    headers = {"Authorization": f"Bearer {body['access_token']}"}
    assert secured.get("/fhir/Patient", headers=headers).status_code == 200


def test_rsa_client_keys_work_too(secured: TestClient) -> None:
    key = new_key("RS384")
    client = Registrar(secured).registry.add("rsa", key.public_jwks(), ["system/*.rs"])
    status, _ = _token(secured, token_form(assertion(client.client_id, key)))
    assert status == 200


def test_requested_scopes_are_narrowed_to_the_registration(secured: TestClient) -> None:
    client_id, key = Registrar(secured).register("system/*.rs")
    form = token_form(assertion(client_id, key), scope="system/Observation.rs system/Patient.cruds")
    status, body = _token(secured, form)
    assert status == 200 and body["scope"] == "system/Observation.rs"
    headers = {"Authorization": f"Bearer {body['access_token']}"}
    assert secured.get("/fhir/Observation", headers=headers).status_code == 200
    assert secured.get("/fhir/Patient", headers=headers).status_code == 403
    refused = token_form(assertion(client_id, key), scope="system/Patient.c")
    status, body = _token(secured, refused)
    assert status == 400 and body["error"] == "invalid_scope"


def test_bad_assertions_are_refused(secured: TestClient) -> None:
    registrar = Registrar(secured)
    client_id, key = registrar.register("system/*.rs")
    other = new_key()
    now = int(time.time())
    cases = {
        "wrong audience": assertion(client_id, key, audience="https://elsewhere/token"),
        "expired": assertion(client_id, key, exp=now - 120, iat=now - 400),
        "too long-lived": assertion(client_id, key, lifetime=3600),
        "wrong key": assertion(client_id, other),
        "unknown client": assertion("nobody", key),
        "sub differs": assertion(client_id, key, sub="someone-else"),
        "no jti": assertion(client_id, key, jti=None),
        "not a JWT": "abc.def",
    }
    for name, signed in cases.items():
        status, body = _token(secured, token_form(signed))
        assert status == 401 and body["error"] == "invalid_client", name
        assert "error_description" in body


def test_an_assertion_works_once(secured: TestClient) -> None:
    client_id, key = Registrar(secured).register("system/*.rs")
    signed = assertion(client_id, key)
    assert _token(secured, token_form(signed))[0] == 200
    status, body = _token(secured, token_form(signed))
    assert status == 401 and "already used" in body["error_description"]


def test_malformed_token_requests(secured: TestClient) -> None:
    client_id, key = Registrar(secured).register("system/*.rs")
    form = token_form(assertion(client_id, key))
    status, body = _token(secured, {**form, "grant_type": "password"})
    assert status == 400 and body["error"] == "unsupported_grant_type"
    status, body = _token(secured, {**form, "client_assertion_type": "basic"})
    assert status == 400 and body["error"] == "invalid_request"
    status, body = _token(secured, {k: v for k, v in form.items() if k != "client_assertion"})
    assert status == 400 and body["error"] == "invalid_request"


# -- an external identity provider -----------------------------------------------------
class _JwksServer:
    """A loopback HTTP server publishing one JWKS, standing in for an identity provider."""

    def __init__(self, jwks: dict) -> None:
        payload = json.dumps(jwks).encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: object) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/jwks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()


def test_tokens_of_an_external_identity_provider(tmp_path: Path) -> None:
    idp_key = new_key("RS384")
    idp = _JwksServer(idp_key.public_jwks())
    issuer, audience = "https://idp.delhi.example/realms/hims", "fhir-server"
    try:
        with auth_client(
            "sqlite",
            tmp_path,
            auth_external_issuer=issuer,
            auth_external_jwks_url=idp.url,
            auth_external_audience=audience,
        ) as client:

            def idp_token(**claims: object) -> dict[str, str]:
                now = int(time.time())
                body = {
                    "iss": issuer,
                    "sub": "doctor-17",
                    "aud": audience,
                    "exp": now + 300,
                    "scope": "user/Patient.rs",
                    "facility": "HFR-9",
                    **claims,
                }
                signed = jwt.encode(
                    body, idp_key.private, algorithm="RS384", headers={"kid": idp_key.kid}
                )
                return {"Authorization": f"Bearer {signed}"}

            assert client.get("/fhir/Patient", headers=idp_token()).status_code == 200
            denied = client.post("/fhir/Patient", json=patient(), headers=idp_token())
            assert denied.status_code == 403
            wrong_aud = client.get("/fhir/Patient", headers=idp_token(aud="other"))
            assert wrong_aud.status_code == 401
            expired = client.get("/fhir/Patient", headers=idp_token(exp=int(time.time()) - 600))
            assert expired.status_code == 401
    finally:
        idp.close()


def test_a_disabled_client_is_revoked_at_once(secured: TestClient) -> None:
    registrar = Registrar(secured)
    client_id, key = registrar.register("system/*.rs")
    status, body = _token(secured, token_form(assertion(client_id, key)))
    headers = {"Authorization": f"Bearer {body['access_token']}"}
    assert secured.get("/fhir/Patient", headers=headers).status_code == 200
    registrar.registry.set_disabled(client_id, True)
    refused = secured.get("/fhir/Patient", headers=headers)  # its token has not expired
    assert refused.status_code == 401
    assert "disabled" in refused.json()["issue"][0]["diagnostics"]
    status, body = _token(secured, token_form(assertion(client_id, key)))
    assert status == 401 and body["error"] == "invalid_client"
    registrar.registry.set_disabled(client_id, False)
    assert secured.get("/fhir/Patient", headers=headers).status_code == 200
