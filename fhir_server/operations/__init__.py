"""FHIR operations, one module each, registered in `registry`."""

from fhir_server.operations import everything, registry, reindex, validate

__all__ = ["everything", "registry", "reindex", "validate"]
