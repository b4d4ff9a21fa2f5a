"""Test helpers for authentication: client keys, assertions, an app with auth on."""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from fastapi.testclient import TestClient
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from fhir_server.api.app import create_app
from fhir_server.security.clients import ClientRegistry
from fhir_server.settings import Settings
from tests.conftest import open_test_store

ROOT = "http://testserver"
TOKEN_URL = ROOT + "/auth/token"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


@dataclass
class ClientKey:
    private: Any
    kid: str
    alg: str

    def public_jwks(self) -> dict[str, Any]:
        to_jwk = ECAlgorithm.to_jwk if self.alg.startswith("ES") else RSAAlgorithm.to_jwk
        jwk = json.loads(to_jwk(self.private.public_key()))
        return {"keys": [{**jwk, "kid": self.kid, "alg": self.alg}]}


def new_key(alg: str = "ES384") -> ClientKey:
    if alg.startswith("ES"):
        private: Any = ec.generate_private_key(ec.SECP384R1())
    else:
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return ClientKey(private, secrets.token_hex(4), alg)


def assertion(
    client_id: str,
    key: ClientKey,
    audience: str = TOKEN_URL,
    lifetime: int = 240,
    **overrides: Any,
) -> str:
    now = int(time.time())
    claims = {
        "iss": client_id,
        "sub": client_id,
        "aud": audience,
        "exp": now + lifetime,
        "iat": now,
        "jti": secrets.token_hex(8),
        **overrides,
    }
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode(claims, key.private, algorithm=key.alg, headers={"kid": key.kid})


def token_form(client_assertion: str, scope: str | None = None) -> dict[str, str]:
    form = {
        "grant_type": "client_credentials",
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": client_assertion,
    }
    if scope is not None:
        form["scope"] = scope
    return form


def auth_settings(tmp_path: Path, **extra: object) -> Settings:
    return Settings(
        store="sqlite:///unused.db",
        auth="smart",
        auth_key_file=str(tmp_path / "server-key.pem"),
        auth_clients_file=str(tmp_path / "clients.json"),
        **extra,
    )


def auth_client(adapter: str, tmp_path: Path, **extra: object) -> TestClient:
    """An HTTP client on an app with authentication on (SMART Backend Services)."""
    settings = auth_settings(tmp_path, **extra)
    store = open_test_store(adapter, tmp_path)
    return TestClient(create_app(settings, store=store), raise_server_exceptions=False)


class Registrar:
    """Registers clients in an app's registry and fetches tokens for them."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.registry: ClientRegistry = client.app.state.security.clients

    def register(
        self, scopes: str, facility: str | None = None, break_glass: bool = False, **limits: int
    ) -> tuple[str, ClientKey]:
        key = new_key()
        registered = self.registry.add(
            "test client", key.public_jwks(), scopes.split(), facility, break_glass, **limits
        )
        return registered.client_id, key

    def token(
        self, scopes: str, facility: str | None = None, break_glass: bool = False, **limits: int
    ) -> str:
        client_id, key = self.register(scopes, facility, break_glass, **limits)
        response = self.client.post("/auth/token", data=token_form(assertion(client_id, key)))
        assert response.status_code == 200, response.text
        return response.json()["access_token"]

    def headers(self, scopes: str, **kwargs: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(scopes, **kwargs)}"}
