"""What an interaction returns to the HTTP layer."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from fhir_server.errors import Issue
from fhir_server.storage.records import StoredRecord


@dataclass
class InteractionResult:
    status: int
    record: StoredRecord | None = None  # the version read or written (ETag, Location)
    body: bytes | None = None  # a body other than the record's (Bundle, OperationOutcome)
    issues: list[Issue] = field(default_factory=list)  # informational / warnings
    location: bool = False  # send Location (create, update-as-create)
    headers: dict[str, str] = field(default_factory=dict)  # e.g. Content-Location of a job
    # a non-FHIR body sent as it is produced (ViewDefinition/$run as CSV, NDJSON, Parquet):
    # its own media type instead of the negotiated FHIR one
    stream: Iterator[bytes] | None = None
    media_type: str | None = None
