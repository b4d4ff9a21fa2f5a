"""The gate in front of every /fhir route: authenticate, authorise, audit.

`AuthGate` is a plain ASGI middleware: under /fhir (except the CapabilityStatement and
SMART discovery) it turns the bearer token into a `Principal`, refuses (401) a missing or
bad token, (403) a request its scopes do not allow and (429) a client over its rate, sets
who is acting for the interactions (`security.acting`), and holds each response until its
AuditEvent is committed. With `auth=off` it is not installed.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlencode

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fhir_server.api.negotiation import FHIR_JSON
from fhir_server.api.responses import outcome_response
from fhir_server.errors import FhirError
from fhir_server.instants import now_utc
from fhir_server.security.access import request_needs
from fhir_server.security.acting import Access, acting_as
from fhir_server.security.audit import RequestAudit, audit_event
from fhir_server.security.audit_writer import AuditWriter
from fhir_server.security.principal import Principal, ScopeDenied
from fhir_server.security.rate_limit import RateLimiter
from fhir_server.security.tokens import InvalidToken

if TYPE_CHECKING:
    from fhir_server.api.auth import Security

_OPEN_PATHS = ("/fhir/metadata", "/fhir/.well-known/smart-configuration")
PURPOSE_HEADER = b"x-purpose-of-use"
BTG = "BTG"  # v3 ActReason: break the glass


class AuthGate:
    """Authenticates, authorises and audits every request under /fhir."""

    def __init__(self, app: ASGIApp, security: Security, audit: AuditWriter | None) -> None:
        self.app = app
        self.security = security
        self.audit = audit
        self.enabled = security.settings.auth != "off"
        self.limiter = RateLimiter()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if (
            not self.enabled
            or scope["type"] != "http"
            or not (path == "/fhir" or path.startswith("/fhir/"))
            or path in _OPEN_PATHS
        ):
            await self.app(scope, receive, send)
            return
        audit = request_audit(scope)
        try:
            access = self._authorize(scope, audit)
        except FhirError as error:
            audit.status, audit.failure = error.status, error.diagnostics
            response = outcome_response(error, FHIR_JSON)
            if not await self._recorded(audit):
                response = outcome_response(AUDIT_DOWN, FHIR_JSON)
            await response(scope, receive, send)
            return
        audit.notes = access.notes
        access.request = audit
        refused = False

        async def send_when_audited(message: Message) -> None:
            # the response leaves only once its AuditEvent is durable
            nonlocal refused
            if message["type"] == "http.response.start":
                audit.status = message["status"]
                committed = access.audit_state == "committed" and audit.status < 400
                if not committed and not await self._recorded(audit):
                    refused = True
                    await outcome_response(AUDIT_DOWN, FHIR_JSON)(scope, receive, send)
                    return
            if not refused:
                await send(message)

        with acting_as(access):
            await self.app(scope, receive, send_when_audited)

    async def _recorded(self, audit: RequestAudit) -> bool:
        if self.audit is None:
            return True
        try:
            await asyncio.wrap_future(self.audit.submit(audit_event(audit)))
        except Exception:  # logged by the writer; the caller gets a 503
            return False
        return True

    def _authorize(self, scope: Scope, audit: RequestAudit) -> Access:
        headers = dict(scope.get("headers") or [])
        parts = [p for p in scope["path"][len("/fhir") :].split("/") if p]
        query = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        needs = request_needs(scope["method"], parts, query)
        audit.interaction = needs.interaction
        authorization = headers.get(b"authorization", b"").decode("latin-1")
        kind, _, token = authorization.partition(" ")
        if not authorization:
            raise InvalidToken("This server requires a bearer access token", error="")
        if kind.lower() != "bearer" or not token.strip():
            raise InvalidToken("Authorization must be `Bearer <token>`", "invalid_request")
        principal = self.security.tokens.verify(
            token.strip(), self.security.issuer(scope), self.security.audience(scope)
        )
        audit.client_id, audit.subject = principal.client_id, principal.subject
        audit.facility, audit.issuer = principal.facility, principal.issuer
        for type_, permission in needs.grants:
            if not principal.allows(type_, permission):
                raise ScopeDenied(type_, permission, needs.interaction)
        self._within_limits(principal, headers)
        audit.break_glass = _break_glass(scope, headers, query, principal)
        return Access(principal, break_glass=audit.break_glass)

    def _within_limits(self, principal: Principal, headers: dict[bytes, bytes]) -> None:
        client = self.security.clients.get(principal.client_id)
        if client is not None and client.disabled:
            # revoked by `fhir-server clients disable`: its unexpired tokens stop here
            raise InvalidToken("The client this token was issued to has been disabled")
        per_minute = self.security.settings.rate_limit_per_minute
        if client is not None and client.rate_per_minute is not None:
            per_minute = client.rate_per_minute
        wait = self.limiter.retry_after(principal.client_id, per_minute)
        if wait is not None:
            raise FhirError(
                429,
                "throttled",
                f"Too many requests from this client (limit {per_minute} a minute); retry"
                f" after {wait} s",
                headers={"Retry-After": str(wait)},
            )
        limit = client.max_body_bytes if client is not None else None
        if limit is None:
            return  # the server-wide limit applies while the body is read
        declared = headers.get(b"content-length", b"").decode("latin-1")
        if not declared and headers.get(b"transfer-encoding"):
            raise FhirError(411, "invalid", "This client must send Content-Length")
        if declared.isdigit() and int(declared) > limit:
            raise FhirError(
                413,
                "too-costly",
                f"The request body is larger than this client's limit of {limit} bytes",
            )


AUDIT_DOWN = FhirError(
    503, "transient", "The request was not completed: its audit record could not be written"
)


def request_audit(scope: Scope) -> RequestAudit:
    client = scope.get("client")
    return RequestAudit(
        method=scope["method"],
        path=scope["path"],
        query=scope.get("query_string", b"").decode("latin-1"),
        status=0,
        recorded=now_utc(),
        address=client[0] if client else None,
        interaction="",
    )


def _break_glass(
    scope: Scope,
    headers: dict[bytes, bytes],
    query: list[tuple[str, str]],
    principal: Principal,
) -> bool:
    """Emergency access asked for by header or `_purpose` parameter (which is consumed)."""
    asked = headers.get(PURPOSE_HEADER, b"").decode("latin-1").strip().upper() == BTG
    if any(k == "_purpose" for k, _ in query):
        asked = asked or any(k == "_purpose" and v.upper() == BTG for k, v in query)
        kept = [(k, v) for k, v in query if k != "_purpose"]
        scope["query_string"] = urlencode(kept).encode("latin-1")
    if asked and not principal.break_glass:
        raise FhirError(
            403,
            "forbidden",
            "Break-the-glass access was asked for, but this client holds no such right",
        )
    return asked
