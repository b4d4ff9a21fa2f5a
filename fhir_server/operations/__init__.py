"""FHIR operations, one module each, registered in `registry`."""

from fhir_server.operations import (
    book,
    everything,
    find_slots,
    ingest_document,
    registry,
    reindex,
    validate,
)

__all__ = ["book", "everything", "find_slots", "ingest_document", "registry", "reindex", "validate"]
