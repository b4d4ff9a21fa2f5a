"""Authentication over HTTP: 401 without a valid token on every route family, discovery."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi.testclient import TestClient

from tests.api.fixtures import patient
from tests.auth_support import ROOT, Registrar, auth_client
from tests.conftest import ADAPTERS


@pytest.fixture(params=ADAPTERS)
def secured(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TestClient]:
    with auth_client(request.param, tmp_path) as client:
        yield client


ROUTE_FAMILIES = [
    ("GET", "/fhir"),
    ("POST", "/fhir"),
    ("GET", "/fhir/_history"),
    ("GET", "/fhir/Patient"),
    ("POST", "/fhir/Patient"),
    ("PUT", "/fhir/Patient?identifier=x|1"),
    ("PATCH", "/fhir/Patient?identifier=x|1"),
    ("DELETE", "/fhir/Patient?identifier=x|1"),
    ("POST", "/fhir/Patient/_search"),
    ("GET", "/fhir/Patient/_history"),
    ("GET", "/fhir/Patient/p1"),
    ("HEAD", "/fhir/Patient/p1"),
    ("PUT", "/fhir/Patient/p1"),
    ("PATCH", "/fhir/Patient/p1"),
    ("DELETE", "/fhir/Patient/p1"),
    ("GET", "/fhir/Patient/p1/_history"),
    ("GET", "/fhir/Patient/p1/_history/1"),
    ("GET", "/fhir/Patient/p1/Observation"),
    ("GET", "/fhir/Patient/p1/$everything"),
    ("POST", "/fhir/Patient/$validate"),
    ("GET", "/fhir/Appointment/$find"),
    ("POST", "/fhir/$reindex"),
    ("GET", "/fhir/OperationDefinition/everything"),
    ("GET", "/fhir/$export"),
    ("GET", "/fhir/Patient/$export"),
    ("GET", "/fhir/bulk-status/0123456789abcdef0123456789abcdef"),
    ("DELETE", "/fhir/bulk-status/0123456789abcdef0123456789abcdef"),
    ("GET", "/fhir/bulk-files/0123456789abcdef0123456789abcdef/Patient-1.ndjson"),
    ("POST", "/fhir/ViewDefinition/$run"),
    ("GET", "/fhir/ViewDefinition/v1/$run"),
    ("GET", "/fhir/ValueSet/$expand"),
    ("GET", "/fhir/CodeSystem/$lookup"),
    ("POST", "/fhir/ConceptMap/$translate"),
    ("GET", "/fhir/AuditEvent"),
]


@pytest.mark.parametrize(("method", "path"), ROUTE_FAMILIES)
def test_no_token_is_401_with_a_challenge(secured: TestClient, method: str, path: str) -> None:
    response = secured.request(method, path, json={"resourceType": "Patient"})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith('Bearer realm="fhir"')
    if method != "HEAD":
        assert response.json()["resourceType"] == "OperationOutcome"


def test_metadata_and_discovery_need_no_token(secured: TestClient) -> None:
    assert secured.get("/fhir/metadata").status_code == 200
    for path in ("/.well-known/smart-configuration", "/fhir/.well-known/smart-configuration"):
        config = secured.get(path).json()
        assert config["token_endpoint"] == ROOT + "/auth/token"
        assert "private_key_jwt" in config["token_endpoint_auth_methods_supported"]
        assert "client_credentials" in config["grant_types_supported"]
    keys = secured.get("/auth/jwks").json()["keys"]
    assert keys and all("d" not in key for key in keys)  # public halves only


def _server_signed(client: TestClient, **claims: object) -> str:
    """A token signed with the server's own key, with chosen claims."""
    key = client.app.state.security.tokens.key
    now = int(time.time())
    body = {
        "iss": ROOT + "/auth",
        "sub": "c1",
        "aud": ROOT + "/fhir",
        "exp": now + 60,
        "scope": "system/*.cruds",
        **claims,
    }
    return jwt.encode(body, key.private_key, algorithm="ES256", headers={"kid": key.kid})


def _foreign_signed(client: TestClient) -> str:
    """Right claims and kid, wrong key: what a forger would send."""
    kid = client.app.state.security.tokens.key.kid
    forger = ec.generate_private_key(ec.SECP256R1())
    now = int(time.time())
    body = {
        "iss": ROOT + "/auth",
        "sub": "c1",
        "aud": ROOT + "/fhir",
        "exp": now + 60,
        "scope": "system/*.cruds",
    }
    return jwt.encode(body, forger, algorithm="ES256", headers={"kid": kid})


BAD_TOKENS = {
    "expired": lambda c: _server_signed(c, exp=int(time.time()) - 3600),
    "wrong audience": lambda c: _server_signed(c, aud="https://other.example/fhir"),
    "wrong issuer": lambda c: _server_signed(c, iss="https://other.example/auth"),
    "badly signed": _foreign_signed,
    "malformed": lambda c: "not.a.jwt",
    "garbage": lambda c: "x" * 40,
}


@pytest.mark.parametrize("kind", sorted(BAD_TOKENS))
def test_bad_tokens_are_401_and_nothing_is_written(secured: TestClient, kind: str) -> None:
    token = BAD_TOKENS[kind](secured)
    headers = {"Authorization": f"Bearer {token}"}
    response = secured.post("/fhir/Patient", json=patient(), headers=headers)
    assert response.status_code == 401, response.text
    challenge = response.headers["WWW-Authenticate"]
    assert 'error="invalid_token"' in challenge
    assert token not in response.text  # a token is never echoed
    admin = Registrar(secured).headers("system/*.cruds")
    total = secured.get("/fhir/Patient?_summary=count", headers=admin).json()["total"]
    assert total == 0


def test_a_valid_token_is_accepted(secured: TestClient) -> None:
    good = _server_signed(secured)
    response = secured.post(
        "/fhir/Patient", json=patient(), headers={"Authorization": f"Bearer {good}"}
    )
    assert response.status_code == 201


def test_other_schemes_are_401(secured: TestClient) -> None:
    response = secured.get("/fhir/Patient", headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert response.status_code == 401
    assert 'error="invalid_request"' in response.headers["WWW-Authenticate"]


def test_auth_off_serves_without_tokens(client: TestClient) -> None:
    assert client.get("/fhir/Patient").status_code == 200
    assert client.post("/auth/token", data={}).status_code == 404  # no token endpoint
