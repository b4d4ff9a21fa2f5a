"""The OAuth2 client-credentials grant of SMART Backend Services (`POST /auth/token`).

A registered client signs a short JWT (the client assertion) with its private key; the
server checks it against the public keys registered for that client and answers with an
access token for the scopes asked for, narrowed to what the client was registered with.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jwt

from fhir_server.security.clients import Client, ClientRegistry
from fhir_server.security.scopes import Scope, parse_scope
from fhir_server.security.tokens import LEEWAY_SECONDS, TokenService

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
CLIENT_ALGORITHMS = ["RS384", "ES384", "RS256", "ES256", "PS384"]
MAX_ASSERTION_SECONDS = 300  # SMART: an assertion expires no more than five minutes ahead


class OAuthError(Exception):
    """An error of the token endpoint, sent as RFC 6749 JSON (not an OperationOutcome)."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status

    def body(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}


@dataclass(frozen=True)
class TokenEndpoint:
    clients: ClientRegistry
    tokens: TokenService
    _seen: dict[str, float]  # assertion jti -> its expiry: an assertion works once
    _lock: threading.Lock

    @classmethod
    def create(cls, clients: ClientRegistry, tokens: TokenService) -> TokenEndpoint:
        return cls(clients, tokens, {}, threading.Lock())

    def grant(
        self, form: Mapping[str, str], token_url: str, issuer: str, audience: str
    ) -> dict[str, Any]:
        if form.get("grant_type") != "client_credentials":
            raise OAuthError("unsupported_grant_type", "grant_type must be client_credentials")
        if form.get("client_assertion_type") != ASSERTION_TYPE:
            raise OAuthError("invalid_request", f"client_assertion_type must be {ASSERTION_TYPE}")
        assertion = form.get("client_assertion")
        if not assertion:
            raise OAuthError("invalid_request", "client_assertion is missing")
        client = self._authenticate(assertion, token_url)
        scope = self._granted_scope(client, form.get("scope"))
        token, lifetime = self.tokens.issue(
            issuer,
            audience,
            client.client_id,
            scope,
            client.facility,
            client.break_glass,
            client.patient,
        )
        body: dict[str, Any] = {
            "access_token": token,
            "token_type": "bearer",
            "expires_in": lifetime,
            "scope": scope,
        }
        if client.patient:
            body["patient"] = client.patient
        return body

    def _authenticate(self, assertion: str, token_url: str) -> Client:
        try:
            unverified = jwt.decode(assertion, options={"verify_signature": False})
            header = jwt.get_unverified_header(assertion)
        except jwt.PyJWTError:
            raise OAuthError("invalid_client", "client_assertion is not a JWT", 401) from None
        client_id = unverified.get("iss")
        client = self.clients.get(client_id) if isinstance(client_id, str) else None
        if client is None or client.disabled:
            raise OAuthError("invalid_client", "unknown or disabled client", 401)
        claims = self._verified(assertion, header, client, token_url)
        if claims.get("sub") != client.client_id:
            raise OAuthError("invalid_client", "the assertion's sub must equal its iss", 401)
        if claims["exp"] > time.time() + MAX_ASSERTION_SECONDS + LEEWAY_SECONDS:
            raise OAuthError("invalid_client", "the assertion expires too far ahead", 401)
        self._once(str(claims["jti"]), float(claims["exp"]))
        return client

    def _verified(
        self, assertion: str, header: dict[str, Any], client: Client, token_url: str
    ) -> dict[str, Any]:
        keys = [k for k in client.jwks.get("keys", []) if isinstance(k, dict)]
        if header.get("kid"):
            keys = [k for k in keys if k.get("kid") == header["kid"]] or keys
        last: Exception | None = None
        for jwk in keys:
            try:
                key = jwt.PyJWK(jwk).key
                return jwt.decode(
                    assertion,
                    key,
                    algorithms=CLIENT_ALGORITHMS,
                    audience=token_url,
                    leeway=LEEWAY_SECONDS,
                    options={"require": ["exp", "iss", "sub", "aud", "jti"]},
                )
            except jwt.InvalidAudienceError:
                raise OAuthError(
                    "invalid_client", f"the assertion's aud must be {token_url}", 401
                ) from None
            except jwt.ExpiredSignatureError:
                raise OAuthError("invalid_client", "the assertion has expired", 401) from None
            except jwt.MissingRequiredClaimError as error:
                missing = f"the assertion lacks {error.claim}"
                raise OAuthError("invalid_client", missing, 401) from None
            except (jwt.PyJWTError, ValueError) as error:
                last = error
        raise OAuthError(
            "invalid_client", "the assertion's signature matches no registered key", 401
        ) from last

    def _once(self, jti: str, expires: float) -> None:
        now = time.time()
        with self._lock:
            for old in [j for j, exp in self._seen.items() if exp + LEEWAY_SECONDS < now]:
                del self._seen[old]
            if jti in self._seen:
                raise OAuthError("invalid_client", "this assertion (jti) was already used", 401)
            self._seen[jti] = expires

    @staticmethod
    def _granted_scope(client: Client, requested: str | None) -> str:
        allowed = [s for s in (parse_scope(w) for w in client.scopes) if s is not None]
        if not requested:
            return " ".join(client.scopes)
        granted = []
        for word in requested.split():
            scope = parse_scope(word)
            if scope is not None and any(_covers(a, scope) for a in allowed):
                granted.append(word)
            elif scope is None and word in client.scopes:
                granted.append(word)  # openid and the like, when registered
        if not granted:
            raise OAuthError("invalid_scope", "none of the requested scopes is allowed")
        return " ".join(granted)


def _covers(allowed: Scope, requested: Scope) -> bool:
    return (
        allowed.context == requested.context
        and allowed.type in ("*", requested.type)
        and requested.permissions <= allowed.permissions
        and allowed.query in (None, requested.query)
    )
