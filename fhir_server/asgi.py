"""Entry point for ASGI servers and worker processes: `fhir_server.asgi:app` (a factory)."""

from __future__ import annotations

from fastapi import FastAPI

from fhir_server.api.app import create_app


def app() -> FastAPI:
    return create_app()
