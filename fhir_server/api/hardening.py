"""Response headers every client gets, and CORS (closed unless origins are configured)."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fhir_server.settings import Settings

_ALWAYS = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
)
_PRIVATE_PREFIXES = ("/fhir", "/auth")


class SecurityHeaders:
    """Adds the headers above; with auth on, health data is also marked `no-store`."""

    def __init__(self, app: ASGIApp, no_store: bool) -> None:
        self.app = app
        self.no_store = no_store

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        private = self.no_store and scope["path"].startswith(_PRIVATE_PREFIXES)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [(n, v) for n, v in _ALWAYS if n not in present]
                if private and b"cache-control" not in present:
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def install_hardening(app: FastAPI, settings: Settings) -> None:
    """Call after the auth gate is added: these wrap it (CORS preflights need no token)."""
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"],
            allow_headers=[
                "Authorization",
                "Content-Type",
                "Prefer",
                "If-Match",
                "If-None-Match",
                "If-None-Exist",
                "If-Modified-Since",
                "X-Purpose-Of-Use",
            ],
            expose_headers=[
                "ETag",
                "Location",
                "Content-Location",
                "Last-Modified",
                "X-Progress",
                "Retry-After",
            ],
        )
    app.add_middleware(SecurityHeaders, no_store=settings.auth != "off")
