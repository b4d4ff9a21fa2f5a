"""The ASGI application: `create_app()` wires settings, store and the FHIR routes."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from starlette.responses import RedirectResponse

from fhir_server import __version__
from fhir_server.abdm import abha
from fhir_server.api.auth import Security
from fhir_server.api.auth import router as auth_router
from fhir_server.api.auth_gate import AuthGate
from fhir_server.api.errors import install_error_handlers
from fhir_server.api.hardening import install_hardening
from fhir_server.api.routes import router
from fhir_server.bulk_export.jobs import ExportJobs
from fhir_server.gc_tuning import tune_gc
from fhir_server.operations.reindex_jobs import ReindexJobs
from fhir_server.rest.context import ServerContext
from fhir_server.search.index import IndexExtractor
from fhir_server.search.query import SearchQueryParser
from fhir_server.search.registry import SearchParameterRegistry
from fhir_server.search.runtime_params import RuntimeSearchParameters
from fhir_server.security import log_redaction
from fhir_server.security.audit_writer import AuditWriter
from fhir_server.settings import Settings, load_settings
from fhir_server.storage.base import Store
from fhir_server.storage.factory import open_store
from fhir_server.terminology.service import TerminologyService
from fhir_server.validation.compiled import compiled_validator
from fhir_server.validation.resource import ResourceValidator
from fhir_server.web import router as web_router


def build_context(settings: Settings, store: Store | None = None) -> ServerContext:
    tune_gc()
    abha.configure(settings.abha_number_systems)
    registry = SearchParameterRegistry.load_default()
    own_bases = (settings.base_url,) if settings.base_url else ()
    validator = ResourceValidator(schema_on_write=settings.validate_schema_on_write)
    ctx = ServerContext(
        settings=settings,
        store=store or open_store(settings),
        registry=registry,
        indexer=IndexExtractor(registry, settings.default_timezone, own_bases),
        parser=SearchQueryParser.from_settings(registry, settings),
        validator=validator,
        started=time.time(),
    )
    ctx.search_parameters = RuntimeSearchParameters(
        registry, ctx.store, settings.search_parameter_recheck_seconds
    )
    ctx.search_parameters.refresh()  # SearchParameters stored earlier join the registry
    ctx.terminology = TerminologyService.for_store(
        ctx.store,
        Path(settings.terminology_dir) if settings.terminology_dir else None,
        settings.terminology_recheck_seconds,
        settings.terminology_max_expansion,
    )
    ctx.parser.terminology = ctx.terminology  # token :in/:not-in/:above/:below
    ctx.reindex_jobs = ReindexJobs(ctx)
    ctx.parser.indexing = ctx.reindex_jobs.indexing_message
    ctx.export_jobs = ExportJobs(ctx.store, settings)
    return ctx


def create_app(settings: Settings | None = None, store: Store | None = None) -> FastAPI:
    settings = settings or load_settings()
    ctx = build_context(settings, store)
    compiled_validator()  # ≈ 1.5 s: built before the first write arrives, not during it

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        ctx.close()

    app = FastAPI(
        title="FHIR server (India public health network)",
        version=__version__,
        description="FHIR R4 REST API. The FHIR base is /fhir; see /fhir/metadata.",
        lifespan=lifespan,
    )
    app.state.ctx = ctx
    install_error_handlers(app)
    if settings.auth != "off":
        app.state.security = Security.create(settings)
        app.include_router(auth_router)  # before /fhir/{type}/{id} claims .well-known
        writer = AuditWriter(ctx) if settings.audit else None
        if writer is not None:
            writer.attach(ctx.store)
        ctx.audit_writer = writer
        app.add_middleware(AuthGate, security=app.state.security, audit=writer)
    install_hardening(app, settings)
    log_redaction.install()
    app.include_router(router)
    app.include_router(web_router)  # the record page, /record

    @app.get("/", include_in_schema=False)
    async def home() -> RedirectResponse:
        return RedirectResponse("/docs")

    return app
