"""FHIR operations, one module each, registered in `registry`."""

from fhir_server.operations import registry, validate

__all__ = ["registry", "validate"]
