"""FHIR operations, one module each, registered in `registry`."""

from fhir_server.operations import (
    book,
    everything,
    expand,
    export,
    find_slots,
    ingest_document,
    lookup,
    registry,
    reindex,
    subsumes,
    translate,
    validate,
    validate_code,
    view_run,
)

__all__ = [
    "book",
    "everything",
    "expand",
    "export",
    "find_slots",
    "ingest_document",
    "lookup",
    "registry",
    "reindex",
    "subsumes",
    "translate",
    "validate",
    "validate_code",
    "view_run",
]
