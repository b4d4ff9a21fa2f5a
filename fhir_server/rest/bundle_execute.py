"""One Bundle entry's interaction, for transaction and batch alike: the writes (create,
update, patch, delete, each inside the caller's session) and the reads (read, vread,
search, history), and the validation all resources to write get first.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any
from urllib.parse import parse_qsl

import orjson

from fhir_server.errors import FhirError, Issue
from fhir_server.rest import delete as delete_
from fhir_server.rest import history as history_
from fhir_server.rest import patch as patch_
from fhir_server.rest import read as read_
from fhir_server.rest import search as search_
from fhir_server.rest import update as update_
from fhir_server.rest.bundle_entries import EntryPlan
from fhir_server.rest.conditional import find_matches
from fhir_server.rest.context import RequestInfo, ServerContext
from fhir_server.rest.create import create_in
from fhir_server.rest.results import InteractionResult
from fhir_server.storage.base import StoreSession
from fhir_server.validation.additional_types import SERVER_RESOURCE_TYPES


def execute_entry(
    ctx: ServerContext, request: RequestInfo, session: StoreSession, plan: EntryPlan
) -> InteractionResult:
    method, type_ = plan.method, plan.type
    if method == "POST":
        if plan.skipped_write:
            return plan.outcome
        assert type_ is not None and plan.resource is not None
        return create_in(
            ctx, session, type_, plan.resource, None, id_=plan.assigned_id, prepared=plan.prepared
        )
    if method == "PUT":
        assert type_ is not None and plan.resource is not None
        id_ = plan.id or plan.assigned_id
        assert id_ is not None
        if plan.id is not None:
            body_id = plan.resource.get("id")
            if body_id != plan.id:
                raise FhirError(
                    400,
                    "invalid",
                    f"resource.id {body_id!r} does not match the id in request.url ({plan.id!r})",
                )
        resource = {**plan.resource, "id": id_}
        return update_.update_in(ctx, session, type_, id_, resource, _etag(plan.if_match))
    if method == "PATCH":
        assert type_ is not None
        content_type, body = _patch_document(plan.resource)
        if plan.id is not None:
            return patch_.patch_in(
                ctx, session, type_, plan.id, content_type, body, _etag(plan.if_match)
            )
        matches = find_matches(ctx, session, type_, plan.query)
        if len(matches) != 1:
            raise FhirError(
                412, "multiple-matches", f"{plan.url!r} matches {len(matches)} resources"
            )
        return patch_.patch_in(
            ctx, session, type_, matches[0][1], content_type, body, _etag(plan.if_match)
        )
    if method == "DELETE":
        assert type_ is not None
        if plan.id is not None:
            return delete_.delete_in(ctx, session, type_, plan.id, _etag(plan.if_match))
        return delete_.conditional_delete_in(ctx, session, type_, plan.query)
    return read_entry(ctx, request, plan)


def read_entry(ctx: ServerContext, request: RequestInfo, plan: EntryPlan) -> InteractionResult:
    params = parse_qsl(plan.query, keep_blank_values=True)
    type_, id_, rest = plan.type, plan.id, plan.rest
    if type_ is not None and type_ not in SERVER_RESOURCE_TYPES:
        raise FhirError(404, "not-supported", f"Unknown resource type {type_!r}")
    if type_ is None:
        return search_.search(ctx, request, (), params)
    if id_ is None:
        if rest == "_history":
            return history_.history(ctx, request, params, type_)
        if rest:
            raise FhirError(400, "not-supported", f"{plan.url!r} is not supported in a Bundle")
        return search_.search(ctx, request, (type_,), params)
    if rest == "":
        result = read_.read(ctx, type_, id_)
    elif rest == "_history":
        return history_.history(ctx, request, params, type_, id_)
    elif rest.startswith("_history/"):
        result = read_.vread(ctx, type_, id_, rest.split("/", 1)[1])
    else:
        raise FhirError(400, "not-supported", f"{plan.url!r} is not supported in a Bundle")
    record = result.record
    if record is not None and plan.if_none_match and _etag(plan.if_none_match) == record.version:
        return InteractionResult(304, record=record)
    return result


def validation_failures(ctx: ServerContext, plans: list[EntryPlan]) -> dict[int, list[Issue]]:
    """The issues of every invalid resource to create or update, by entry index."""
    failures: dict[int, list[Issue]] = {}
    for plan in plans:
        if plan.resource is not None and plan.method in ("POST", "PUT"):
            issues = ctx.validator.issues(plan.resource)
            if issues:
                failures[plan.index] = issues
    return failures


def _etag(value: str | None) -> int | None:
    if value is None:
        return None
    digits = value.strip().removeprefix("W/").strip('"')
    if not digits.isdigit():
        raise FhirError(400, "invalid", f'an ETag must look like W/"3", got {value!r}')
    return int(digits)


def _patch_document(resource: dict[str, Any] | None) -> tuple[str, Any]:
    if resource is None:
        raise FhirError(400, "required", "a PATCH entry needs a Binary or Parameters resource")
    if resource.get("resourceType") == "Parameters":
        return "application/fhir+json", resource
    if resource.get("resourceType") == "Binary":
        try:
            data = base64.b64decode(resource.get("data", ""), validate=True)
            return resource.get("contentType", "application/json-patch+json"), orjson.loads(data)
        except (binascii.Error, orjson.JSONDecodeError) as exc:
            raise FhirError(
                400, "invalid", "the Binary of a PATCH entry is not base64 JSON"
            ) from exc
    raise FhirError(400, "invalid", "a PATCH entry's resource must be Binary or Parameters")
