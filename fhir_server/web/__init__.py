"""The record page (`/record`): static HTML/CSS/JS that calls the FHIR API of this server."""

from fhir_server.web.routes import router

__all__ = ["router"]
