"""Access tokens: the server issues short-lived JWTs and checks every bearer token.

Two kinds are accepted on /fhir: tokens this server signed (SMART Backend Services,
`/auth/token`) and, when configured, tokens of an external identity provider, checked
against its JWKS URL, issuer and audience. A token is never logged; a rejection says
why in a way that helps the client without revealing key material.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any

import jwt

from fhir_server.errors import FhirError
from fhir_server.security.keys import ALGORITHM, SigningKey
from fhir_server.security.principal import Principal
from fhir_server.security.scopes import Scopes

LEEWAY_SECONDS = 30  # clock skew allowed between the server and other machines
VERIFIED_CACHE_SIZE = 10_000  # tokens remembered as verified (each until it expires)


class InvalidToken(FhirError):
    """401 with the RFC 6750 challenge naming why the token was refused."""

    def __init__(self, description: str, error: str = "invalid_token") -> None:
        challenge = f'Bearer realm="fhir", error="{error}", error_description="{description}"'
        if error == "":  # no token at all: the bare challenge (RFC 6750 section 3)
            challenge = 'Bearer realm="fhir"'
        super().__init__(401, "login", description, headers={"WWW-Authenticate": challenge})


@dataclass(frozen=True)
class ExternalIssuer:
    issuer: str
    jwks_url: str
    audience: str
    scope_claim: str = "scope"
    facility_claim: str = "facility"


class TokenService:
    def __init__(
        self,
        key: SigningKey,
        lifetime_seconds: int = 300,
        external: ExternalIssuer | None = None,
    ) -> None:
        self.key = key
        self.lifetime = lifetime_seconds
        self.external = external
        self._external_keys = jwt.PyJWKClient(external.jwks_url) if external else None
        self._verified: dict[tuple[str, str, str], tuple[Principal, float]] = {}
        self._cache_lock = threading.Lock()

    def issue(
        self,
        issuer: str,
        audience: str,
        client_id: str,
        scope: str,
        facility: str | None,
        break_glass: bool,
        patient: str | None = None,
    ) -> tuple[str, int]:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": issuer,
            "sub": client_id,
            "aud": audience,
            "iat": now,
            "exp": now + self.lifetime,
            "jti": secrets.token_urlsafe(16),
            "client_id": client_id,
            "scope": scope,
        }
        if facility:
            claims["facility"] = facility
        if break_glass:
            claims["btg"] = True
        if patient:
            claims["patient"] = patient  # the SMART launch context of patient/ scopes
        token = jwt.encode(
            claims, self.key.private_key, algorithm=ALGORITHM, headers={"kid": self.key.kid}
        )
        return token, self.lifetime

    def verify(self, token: str, issuer: str, audience: str) -> Principal:
        # a token already verified for this issuer/audience is good until it expires:
        # checking its signature again on every request would cost ~0.1 ms each time
        key = (token, issuer, audience)
        cached = self._verified.get(key)
        if cached is not None and time.time() < cached[1]:
            return cached[0]
        principal, expires = self._verify(token, issuer, audience)
        with self._cache_lock:
            if len(self._verified) >= VERIFIED_CACHE_SIZE:
                self._verified.pop(next(iter(self._verified)))  # the oldest entry
            self._verified[key] = (principal, expires)
        return principal

    def _verify(self, token: str, issuer: str, audience: str) -> tuple[Principal, float]:
        try:
            header = jwt.get_unverified_header(token)
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            raise InvalidToken("The access token is not a well-formed JWT") from None
        if self.external is not None and unverified.get("iss") == self.external.issuer:
            return self._verify_external(token)
        if header.get("kid") != self.key.kid or header.get("alg") != ALGORITHM:
            raise InvalidToken("The access token was not signed by this server's key")
        claims = self._decode(token, self.key.private_key.public_key(), issuer, audience)
        return _principal(claims, "scope", "facility"), float(claims["exp"])

    def _verify_external(self, token: str) -> tuple[Principal, float]:
        assert self.external is not None and self._external_keys is not None
        try:
            signing = self._external_keys.get_signing_key_from_jwt(token)
        except jwt.PyJWTError:
            raise InvalidToken("No key of the identity provider matches the token") from None
        claims = self._decode(
            token, signing.key, self.external.issuer, self.external.audience, external=True
        )
        principal = _principal(claims, self.external.scope_claim, self.external.facility_claim)
        return principal, float(claims["exp"])

    def _decode(
        self, token: str, key: Any, issuer: str, audience: str, external: bool = False
    ) -> dict[str, Any]:
        algorithms = ["RS256", "RS384", "ES256", "ES384"] if external else [ALGORITHM]
        try:
            return jwt.decode(
                token,
                key,
                algorithms=algorithms,
                audience=audience,
                issuer=issuer,
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError:
            raise InvalidToken("The access token has expired") from None
        except jwt.InvalidAudienceError:
            raise InvalidToken("The access token is for another audience") from None
        except jwt.InvalidIssuerError:
            raise InvalidToken("The access token is from an unknown issuer") from None
        except jwt.InvalidSignatureError:
            raise InvalidToken("The access token's signature is not valid") from None
        except jwt.PyJWTError as error:
            raise InvalidToken(f"The access token is not valid: {error}") from None


def _principal(claims: dict[str, Any], scope_claim: str, facility_claim: str) -> Principal:
    scope = claims.get(scope_claim, "")
    scope_text = " ".join(scope) if isinstance(scope, list) else str(scope)
    facility = claims.get(facility_claim)
    return Principal(
        subject=str(claims["sub"]),
        client_id=str(claims.get("client_id") or claims.get("azp") or claims["sub"]),
        scopes=Scopes.parse(scope_text),
        scope_text=scope_text,
        facility=str(facility) if facility else None,
        break_glass=claims.get("btg") is True,
        patient=str(claims["patient"]) if claims.get("patient") else None,
        issuer=str(claims.get("iss", "")),
    )
