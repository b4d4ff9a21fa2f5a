"""What every interaction needs, built once at start-up and passed in."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from fhir_server.settings import Settings
from fhir_server.storage.base import Store

if TYPE_CHECKING:
    from fhir_server.bulk_export.jobs import ExportJobs
    from fhir_server.operations.reindex_jobs import ReindexJobs
    from fhir_server.search.index import IndexExtractor
    from fhir_server.search.query import SearchQueryParser
    from fhir_server.search.registry import SearchParameterRegistry
    from fhir_server.search.runtime_params import RuntimeSearchParameters
    from fhir_server.security.audit_writer import AuditWriter
    from fhir_server.terminology.service import TerminologyService
    from fhir_server.validation.resource import ResourceValidator


@dataclass
class ServerContext:
    settings: Settings
    store: Store
    registry: SearchParameterRegistry
    indexer: IndexExtractor
    parser: SearchQueryParser
    validator: ResourceValidator
    started: float = field(default=0.0)
    capability_cache: dict[tuple, bytes] = field(default_factory=dict)
    # SearchParameter resources stored at run time, and background $reindex jobs
    search_parameters: RuntimeSearchParameters | None = None
    reindex_jobs: ReindexJobs | None = None
    # code systems, value sets and concept maps (shipped, stored, loaded)
    terminology: TerminologyService | None = None
    # background bulk $export jobs (state shared with other workers through a folder)
    export_jobs: ExportJobs | None = None
    # writes the AuditEvent of each request before its response leaves (auth on)
    audit_writer: AuditWriter | None = None

    def close(self) -> None:
        if self.export_jobs is not None:
            self.export_jobs.stop()  # job threads read the store: stop them first
        if self.audit_writer is not None:
            self.audit_writer.close()  # writes what is queued, then stops
        if self.reindex_jobs is not None:
            self.reindex_jobs.stop()  # job threads write to the store: stop them first
        self.store.close()


@dataclass(frozen=True)
class RequestInfo:
    """The parts of a request that interactions need, free of any HTTP framework."""

    base_url: str  # e.g. http://127.0.0.1:8080/fhir (no trailing slash)
    strict: bool = False  # Prefer: handling=strict
    respond_async: bool = False  # Prefer: respond-async (Bulk Data kick-off)
