"""FHIR operations, one module each, registered in `registry`."""

from fhir_server.operations import everything, ingest_document, registry, reindex, validate

__all__ = ["everything", "ingest_document", "registry", "reindex", "validate"]
