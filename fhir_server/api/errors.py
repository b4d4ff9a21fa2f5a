"""One place that turns every error into an OperationOutcome response."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from fhir_server.api.negotiation import FHIR_JSON
from fhir_server.api.responses import outcome_response
from fhir_server.errors import FhirError
from fhir_server.storage.base import StoreUnavailable

log = logging.getLogger("fhir_server")

_HTTP_CODES = {404: "not-found", 405: "not-supported", 413: "too-costly", 415: "not-supported"}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(FhirError)
    async def fhir_error(request: Request, exc: FhirError) -> Response:
        return outcome_response(exc, FHIR_JSON)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        code = _HTTP_CODES.get(exc.status_code, "processing")
        message = exc.detail if isinstance(exc.detail, str) else "HTTP error"
        if exc.status_code == 404:
            message = f"No such endpoint: {request.method} {request.url.path}"
        elif exc.status_code == 405:
            message = f"{request.method} is not allowed on {request.url.path}"
        return outcome_response(FhirError(exc.status_code, code, message), FHIR_JSON)

    @app.exception_handler(RequestValidationError)
    async def request_error(request: Request, exc: RequestValidationError) -> Response:
        return outcome_response(
            FhirError(400, "invalid", f"Bad request: {exc.errors()}"), FHIR_JSON
        )

    @app.exception_handler(StoreUnavailable)
    async def store_down(request: Request, exc: StoreUnavailable) -> Response:
        log.error("store unavailable: %s", exc)
        return outcome_response(
            FhirError(503, "transient", "The data store is unavailable; retry later"), FHIR_JSON
        )

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        # the stack trace goes to the log, never to the client
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return outcome_response(
            FhirError(500, "exception", "Internal server error; it has been logged"), FHIR_JSON
        )
