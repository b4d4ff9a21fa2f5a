"""FHIR REST routes under /fhir. Each route parses HTTP, calls one interaction, renders.

Interactions are synchronous (the stores are blocking); they run in the thread pool so
the event loop keeps serving while SQLite or MongoDB works.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import FileResponse, Response

from fhir_server.api.body import read_json, read_json_bytes
from fhir_server.api.headers import parse_etag, parse_http_date, parse_prefer
from fhir_server.api.negotiation import (
    FHIR_JSON,
    JSON,
    JSON_PATCH,
    request_media_type,
    response_media_type,
)
from fhir_server.api.responses import fhir_response, result_response
from fhir_server.errors import FhirError
from fhir_server.operations import export as export_
from fhir_server.operations import registry as operations
from fhir_server.rest import bundle_post
from fhir_server.rest import create as create_
from fhir_server.rest import delete as delete_
from fhir_server.rest import history as history_
from fhir_server.rest import patch as patch_
from fhir_server.rest import read as read_
from fhir_server.rest import search as search_
from fhir_server.rest import update as update_
from fhir_server.rest.capabilities import capability_statement
from fhir_server.rest.context import RequestInfo, ServerContext
from fhir_server.rest.results import InteractionResult
from fhir_server.rest.subsetting import parse_subsetting, subset
from fhir_server.validation.additional_types import SERVER_RESOURCE_TYPES
from fhir_server.validation.json_body import require_resource

router = APIRouter(prefix="/fhir")
T = TypeVar("T")


def _ctx(request: Request) -> ServerContext:
    return request.app.state.ctx


def _info(request: Request) -> RequestInfo:
    ctx = _ctx(request)
    base = ctx.settings.base_url or str(request.base_url).rstrip("/") + "/fhir"
    prefer = parse_prefer(request.headers.get("prefer"))
    return RequestInfo(
        base_url=base.rstrip("/"),
        strict=prefer.handling == "strict",
        respond_async=prefer.respond_async,
    )


def _params(request: Request) -> list[tuple[str, str]]:
    return [(k, v) for k, v in request.query_params.multi_items() if k != "_format"]


def _check_type(type_: str) -> str:
    if type_ not in SERVER_RESOURCE_TYPES:
        raise FhirError(404, "not-supported", f"Unknown resource type {type_!r}")
    return type_


async def _run(fn: Callable[..., T], ctx: ServerContext, *args: Any, **kwargs: Any) -> T:
    """Run one interaction in the thread pool, with the registry in step with the store."""
    return await run_in_threadpool(_interaction, fn, ctx, *args, **kwargs)


def _interaction(fn: Callable[..., T], ctx: ServerContext, *args: Any, **kwargs: Any) -> T:
    # other workers may have stored SearchParameters since this one last looked
    if ctx.search_parameters is not None:
        ctx.search_parameters.refresh()
    return fn(ctx, *args, **kwargs)


async def _resource_body(request: Request, type_: str) -> dict[str, Any]:
    request_media_type(request)
    settings = _ctx(request).settings
    body = await read_json(request, settings.max_body_bytes, settings.max_json_depth)
    return require_resource(body, type_)


def _write_response(request: Request, result: InteractionResult) -> Response:
    return result_response(
        result,
        response_media_type(request),
        _info(request).base_url,
        parse_prefer(request.headers.get("prefer")),
    )


# -- system level -------------------------------------------------------------------
@router.get("/metadata", summary="CapabilityStatement")
async def metadata(request: Request) -> Response:
    media = response_media_type(request)
    body = await _run(capability_statement, _ctx(request), _info(request).base_url)
    return fhir_response(body, 200, media)


@router.get("", summary="System search")
async def system_search(request: Request) -> Response:
    media = response_media_type(request)
    result = await _run(search_.search, _ctx(request), _info(request), (), _params(request))
    return result_response(result, media, _info(request).base_url)


@router.get("/_history", summary="System history")
async def system_history(request: Request) -> Response:
    media = response_media_type(request)
    result = await _run(history_.history, _ctx(request), _info(request), _params(request))
    return result_response(result, media, _info(request).base_url)


@router.post("", summary="batch / transaction Bundle")
async def system_post(request: Request) -> Response:
    media = response_media_type(request)
    request_media_type(request)
    settings = _ctx(request).settings
    raw = await read_json_bytes(request, settings.max_body_bytes)
    # bundle responses carry no resources unless asked: a 10k-entry response stays small
    prefer = request.headers.get("prefer")
    return_pref = parse_prefer(prefer).return_ if prefer and "return" in prefer else "minimal"
    result = await _run(
        bundle_post.process_bundle_json,
        _ctx(request),
        _info(request),
        raw,
        settings.max_json_depth,
        return_pref,
    )
    return result_response(result, media, _info(request).base_url)


# -- bulk $export status and files (before the type routes, which would take them) ---
@router.get("/bulk-status/{job_id}", summary="$export status: 202 + X-Progress, then manifest")
async def export_status(request: Request, job_id: str) -> Response:
    result = await _run(export_.export_status, _ctx(request), job_id)
    # the complete-status body is plain JSON (Bulk Data IG), errors are OperationOutcomes
    media = JSON if result.status == 200 else FHIR_JSON
    return result_response(result, media, _info(request).base_url)


@router.delete("/bulk-status/{job_id}", summary="Cancel an $export and remove its files")
async def export_cancel(request: Request, job_id: str) -> Response:
    result = await _run(export_.export_cancel, _ctx(request), job_id)
    return result_response(result, FHIR_JSON, _info(request).base_url)


@router.get("/bulk-files/{job_id}/{file_name}", summary="An $export NDJSON file")
async def export_file(request: Request, job_id: str, file_name: str) -> Response:
    path = await _run(export_.export_file, _ctx(request), job_id, file_name)
    return FileResponse(path, media_type=export_.NDJSON)


# -- type level ---------------------------------------------------------------------
@router.get("/{type_}", summary="Search a resource type")
async def type_search(request: Request, type_: str) -> Response:
    if type_.startswith("$"):
        return await _operation(request, type_[1:], None, None)
    media = response_media_type(request)
    _check_type(type_)
    result = await _run(search_.search, _ctx(request), _info(request), (type_,), _params(request))
    return result_response(result, media, _info(request).base_url)


@router.post("/{type_}/_search", summary="Search by form POST")
async def type_search_post(request: Request, type_: str) -> Response:
    media = response_media_type(request)
    _check_type(type_)
    form = await request.form()
    params = _params(request) + [(k, str(v)) for k, v in form.multi_items()]
    result = await _run(search_.search, _ctx(request), _info(request), (type_,), params)
    return result_response(result, media, _info(request).base_url)


@router.get("/{type_}/_history", summary="Type history")
async def type_history(request: Request, type_: str) -> Response:
    media = response_media_type(request)
    _check_type(type_)
    result = await _run(history_.history, _ctx(request), _info(request), _params(request), type_)
    return result_response(result, media, _info(request).base_url)


@router.post("/{type_}", summary="create (If-None-Exist for conditional create)")
async def create(request: Request, type_: str) -> Response:
    if type_.startswith("$"):
        return await _operation(request, type_[1:], None, None)
    response_media_type(request)
    _check_type(type_)
    resource = await _resource_body(request, type_)
    if_none_exist = request.headers.get("if-none-exist")
    result = await _run(create_.create, _ctx(request), type_, resource, if_none_exist)
    return _write_response(request, result)


@router.put("/{type_}", summary="Conditional update")
async def conditional_update(request: Request, type_: str) -> Response:
    response_media_type(request)
    _check_type(type_)
    resource = await _resource_body(request, type_)
    if_match = parse_etag(request.headers.get("if-match"), "If-Match")
    result = await _run(
        update_.conditional_update, _ctx(request), type_, request.url.query, resource, if_match
    )
    return _write_response(request, result)


@router.patch("/{type_}", summary="Conditional patch")
async def conditional_patch(request: Request, type_: str) -> Response:
    response_media_type(request)
    _check_type(type_)
    content_type, body = await _patch_body(request)
    if_match = parse_etag(request.headers.get("if-match"), "If-Match")
    result = await _run(
        patch_.conditional_patch,
        _ctx(request),
        type_,
        request.url.query,
        content_type,
        body,
        if_match,
    )
    return _write_response(request, result)


@router.delete("/{type_}", summary="Conditional delete")
async def conditional_delete(request: Request, type_: str) -> Response:
    response_media_type(request)
    _check_type(type_)
    result = await _run(delete_.conditional_delete, _ctx(request), type_, request.url.query)
    return _write_response(request, result)


# -- instance level -----------------------------------------------------------------
@router.get("/{type_}/{id_}", summary="read")
@router.head("/{type_}/{id_}", include_in_schema=False)
async def read(request: Request, type_: str, id_: str) -> Response:
    if id_.startswith("$"):
        return await _operation(request, id_[1:], type_, None)
    media = response_media_type(request)
    _check_type(type_)
    summary, elements = parse_subsetting(_params(request))
    result = await _run(read_.read, _ctx(request), type_, id_)
    return _read_response(request, result, media, summary, elements)


@router.post("/{type_}/{id_}", summary="Type-level operation")
async def type_operation_post(request: Request, type_: str, id_: str) -> Response:
    if id_.startswith("$"):
        return await _operation(request, id_[1:], type_, None)
    raise FhirError(405, "not-supported", f"POST is not allowed on {type_}/{id_}; use PUT")


@router.put("/{type_}/{id_}", summary="update (update-as-create with a client id)")
async def update(request: Request, type_: str, id_: str) -> Response:
    response_media_type(request)
    _check_type(type_)
    resource = await _resource_body(request, type_)
    if_match = parse_etag(request.headers.get("if-match"), "If-Match")
    result = await _run(update_.update, _ctx(request), type_, id_, resource, if_match)
    return _write_response(request, result)


@router.patch("/{type_}/{id_}", summary="patch (JSON Patch or FHIRPath Patch)")
async def patch(request: Request, type_: str, id_: str) -> Response:
    response_media_type(request)
    _check_type(type_)
    content_type, body = await _patch_body(request)
    if_match = parse_etag(request.headers.get("if-match"), "If-Match")
    result = await _run(patch_.patch, _ctx(request), type_, id_, content_type, body, if_match)
    return _write_response(request, result)


@router.delete("/{type_}/{id_}", summary="delete")
async def delete(request: Request, type_: str, id_: str) -> Response:
    response_media_type(request)
    _check_type(type_)
    if_match = parse_etag(request.headers.get("if-match"), "If-Match")
    result = await _run(delete_.delete, _ctx(request), type_, id_, if_match)
    return _write_response(request, result)


@router.get("/{type_}/{id_}/_history", summary="Instance history")
async def instance_history(request: Request, type_: str, id_: str) -> Response:
    media = response_media_type(request)
    _check_type(type_)
    result = await _run(
        history_.history, _ctx(request), _info(request), _params(request), type_, id_
    )
    return result_response(result, media, _info(request).base_url)


@router.get("/{type_}/{id_}/_history/{vid}", summary="vread")
@router.head("/{type_}/{id_}/_history/{vid}", include_in_schema=False)
async def vread(request: Request, type_: str, id_: str, vid: str) -> Response:
    media = response_media_type(request)
    _check_type(type_)
    summary, elements = parse_subsetting(_params(request))
    result = await _run(read_.vread, _ctx(request), type_, id_, vid)
    return _read_response(request, result, media, summary, elements)


@router.get("/{type_}/{id_}/{sub}", summary="Instance operation or Patient compartment search")
@router.post("/{type_}/{id_}/{sub}", summary="Instance operation")
async def instance_sub(request: Request, type_: str, id_: str, sub: str) -> Response:
    _check_type(type_)
    if sub.startswith("$"):
        return await _operation(request, sub[1:], type_, id_)
    media = response_media_type(request)
    if request.method != "GET":
        raise FhirError(405, "not-supported", f"{request.method} is not allowed here")
    _check_type(sub)
    result = await _run(
        search_.compartment_search,
        _ctx(request),
        _info(request),
        type_,
        id_,
        sub,
        _params(request),
    )
    return result_response(result, media, _info(request).base_url)


# -- helpers ------------------------------------------------------------------------
def _read_response(
    request: Request,
    result: InteractionResult,
    media: str,
    summary: str | None,
    elements: list[str] | None,
) -> Response:
    record = result.record
    assert record is not None
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None and parse_etag(if_none_match, "If-None-Match") == record.version:
        return fhir_response(None, 304, media, {"ETag": f'W/"{record.version}"'})
    since = parse_http_date(request.headers.get("if-modified-since"), "If-Modified-Since")
    if since is not None and record.last_updated.replace(microsecond=0) <= since:
        return fhir_response(None, 304, media, {"ETag": f'W/"{record.version}"'})
    body = subset(record.body, summary, elements)
    response = result_response(result, media, _info(request).base_url, body_override=body)
    if request.method == "HEAD":
        return Response(status_code=response.status_code, headers=dict(response.headers))
    return response


async def _patch_body(request: Request) -> tuple[str, Any]:
    media = request_media_type(request, (JSON_PATCH, FHIR_JSON, JSON))
    settings = _ctx(request).settings
    body = await read_json(request, settings.max_body_bytes, settings.max_json_depth)
    return media, body


async def _operation(request: Request, name: str, type_: str | None, id_: str | None) -> Response:
    if type_ is not None:
        _check_type(type_)
    operation = operations.find(name, type_, id_)
    # an operation declaring a _format parameter renders its own output (ViewDefinition/$run
    # as CSV or Parquet): it gets _format, and its errors are FHIR JSON
    own_format = any(p.name == "_format" and p.use == "in" for p in operation.parameters)
    media = FHIR_JSON if own_format else response_media_type(request)
    settings = _ctx(request).settings
    body: Any = None
    # an operation without input parameters may be POSTed with no body at all
    if request.method == "POST" and await request.body():
        request_media_type(request)
        body = await read_json(request, settings.max_body_bytes, settings.max_json_depth)
    result = await _run(
        operation.handler,
        _ctx(request),
        _info(request),
        type_,
        id_,
        list(request.query_params.multi_items()) if own_format else _params(request),
        body,
    )
    return result_response(result, media, _info(request).base_url)
