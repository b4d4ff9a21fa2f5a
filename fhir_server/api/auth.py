"""Authentication over HTTP: the server's keys and clients (`Security`), the token
endpoint, JWKS and SMART discovery. The gate in front of /fhir is `api/auth_gate.py`."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
import orjson
from fastapi import APIRouter, Request
from starlette.responses import JSONResponse, Response
from starlette.types import Scope

from fhir_server.api.auth_gate import AUDIT_DOWN, request_audit
from fhir_server.api.negotiation import FHIR_JSON
from fhir_server.api.responses import outcome_response
from fhir_server.security import keys
from fhir_server.security.audit import LOGIN, audit_event
from fhir_server.security.clients import ClientRegistry
from fhir_server.security.token_grant import OAuthError, TokenEndpoint
from fhir_server.security.tokens import ExternalIssuer, TokenService
from fhir_server.settings import Settings

router = APIRouter()


@dataclass
class Security:
    settings: Settings
    clients: ClientRegistry
    tokens: TokenService
    endpoint: TokenEndpoint

    @classmethod
    def create(cls, settings: Settings) -> Security:
        external = None
        if settings.auth_external_issuer:
            if not (settings.auth_external_jwks_url and settings.auth_external_audience):
                raise ValueError(
                    "FHIR_AUTH_EXTERNAL_ISSUER needs FHIR_AUTH_EXTERNAL_JWKS_URL and"
                    " FHIR_AUTH_EXTERNAL_AUDIENCE"
                )
            external = ExternalIssuer(
                settings.auth_external_issuer,
                settings.auth_external_jwks_url,
                settings.auth_external_audience,
                settings.auth_external_scope_claim,
                settings.auth_external_facility_claim,
            )
        key = keys.load_or_create(Path(settings.auth_key_file))
        tokens = TokenService(key, settings.auth_token_seconds, external)
        clients = ClientRegistry(Path(settings.auth_clients_file))
        return cls(settings, clients, tokens, TokenEndpoint.create(clients, tokens))

    def root(self, scope: Scope) -> str:
        """The server's own URL (scheme://host[:port]), from settings or the request."""
        base = self.settings.base_url
        if base:
            return base.rstrip("/").removesuffix("/fhir")
        headers = dict(scope.get("headers") or [])
        host = headers.get(b"host", b"localhost").decode("latin-1")
        return f"{scope.get('scheme', 'http')}://{host}"

    def issuer(self, scope: Scope) -> str:
        return self.settings.auth_issuer or self.root(scope) + "/auth"

    def audience(self, scope: Scope) -> str:
        return self.root(scope) + "/fhir"


def _security(request: Request) -> Security:
    return request.app.state.security


@router.post("/auth/token", summary="OAuth2 token endpoint (SMART Backend Services)")
async def token(request: Request) -> Response:
    security = _security(request)
    form = {k: str(v) for k, v in (await request.form()).items()}
    root = security.root(request.scope)
    try:
        body: dict[str, Any] = security.endpoint.grant(
            form,
            token_url=root + "/auth/token",
            issuer=security.issuer(request.scope),
            audience=security.audience(request.scope),
        )
    except OAuthError as error:
        if not await _audit_login(request, form, error.status, error.description):
            return outcome_response(AUDIT_DOWN, FHIR_JSON)
        return JSONResponse(error.body(), error.status, headers={"Cache-Control": "no-store"})
    if not await _audit_login(request, form, 200, None):
        return outcome_response(AUDIT_DOWN, FHIR_JSON)
    return JSONResponse(body, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})


async def _audit_login(
    request: Request, form: dict[str, str], status: int, failure: str | None
) -> bool:
    """Every token request, granted or refused, is audited as a login attempt."""
    writer = request.app.state.ctx.audit_writer
    if writer is None:
        return True
    audit = request_audit(request.scope)
    audit.status, audit.failure, audit.interaction = status, failure, LOGIN
    audit.client_id = _claimed_client(form.get("client_assertion", ""))
    try:
        await asyncio.wrap_future(writer.submit(audit_event(audit)))
    except Exception:  # logged by the writer
        return False
    return True


def _claimed_client(assertion: str) -> str | None:
    """The client an assertion claims to be (unverified: the audit says who tried)."""
    try:
        claimed = jwt.decode(assertion, options={"verify_signature": False}).get("iss")
    except jwt.PyJWTError:
        return None
    return claimed if isinstance(claimed, str) and len(claimed) <= 128 else None


@router.get("/auth/jwks", summary="The public keys that sign this server's access tokens")
async def jwks(request: Request) -> Response:
    return JSONResponse(_security(request).tokens.key.jwks())


@router.get("/.well-known/smart-configuration", include_in_schema=False)
@router.get("/fhir/.well-known/smart-configuration", summary="SMART discovery")
async def smart_configuration(request: Request) -> Response:
    security = _security(request)
    root = security.root(request.scope)
    body = {
        "issuer": security.issuer(request.scope),
        "jwks_uri": root + "/auth/jwks",
        "token_endpoint": root + "/auth/token",
        "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        "token_endpoint_auth_signing_alg_values_supported": ["RS384", "ES384", "RS256", "ES256"],
        "grant_types_supported": ["client_credentials"],
        "scopes_supported": ["system/*.cruds", "system/*.rs", "user/*.cruds", "system/*.read"],
        "capabilities": ["client-confidential-asymmetric", "permission-v1", "permission-v2"],
    }
    return Response(orjson.dumps(body), media_type="application/json")
