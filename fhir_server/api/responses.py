"""InteractionResult -> HTTP response: ETag, Location, Last-Modified, Prefer."""

from __future__ import annotations

import orjson
from starlette.responses import Response, StreamingResponse

from fhir_server.api.headers import Prefer
from fhir_server.errors import FhirError, Issue, operation_outcome
from fhir_server.rest.bundles import etag, last_modified_header
from fhir_server.rest.results import InteractionResult

_CHARSET = "; charset=utf-8"


def fhir_response(
    body: bytes | None,
    status: int,
    media_type: str,
    headers: dict[str, str] | None = None,
) -> Response:
    return Response(
        content=body or b"",
        status_code=status,
        media_type=(media_type + _CHARSET) if body else None,
        headers=headers,
    )


def outcome_response(error: FhirError, media_type: str) -> Response:
    return fhir_response(
        orjson.dumps(error.outcome()), error.status, media_type, dict(error.headers)
    )


def result_response(
    result: InteractionResult,
    media_type: str,
    base_url: str,
    prefer: Prefer | None = None,
    body_override: bytes | None = None,
) -> Response:
    headers: dict[str, str] = dict(result.headers)
    record = result.record
    if record is not None and not record.deleted:
        headers["ETag"] = etag(record)
        headers["Last-Modified"] = last_modified_header(record)
        if result.location:
            headers["Location"] = f"{base_url}/{record.type}/{record.id}/_history/{record.version}"
            headers["Content-Location"] = headers["Location"]
    elif record is not None:  # a delete's tombstone
        headers["ETag"] = etag(record)
    if result.status == 204:
        return fhir_response(None, 204, media_type, headers)
    if result.stream is not None:
        return StreamingResponse(
            result.stream, result.status, headers, media_type=result.media_type or media_type
        )

    mode = prefer.return_ if prefer else "representation"
    if result.body is not None:
        body: bytes | None = result.body
    elif mode == "minimal" and record is not None:
        body = None
    elif mode == "OperationOutcome" or record is None:
        issues = result.issues or [Issue("information", "informational", _describe(result))]
        body = orjson.dumps(operation_outcome(issues))
    else:
        body = body_override if body_override is not None else record.body
    return fhir_response(body, result.status, media_type, headers)


def _describe(result: InteractionResult) -> str:
    record = result.record
    if record is None:
        return "All OK"
    verb = "Created" if result.status == 201 else "Stored"
    return f"{verb} {record.type}/{record.id} version {record.version}"
