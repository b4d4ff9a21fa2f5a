"""patch: PATCH [base]/[type]/[id] with JSON Patch or FHIRPath Patch, and by criteria."""

from __future__ import annotations

from typing import Any

import orjson

from fhir_server.errors import FhirError, Issue
from fhir_server.patch import apply_patch
from fhir_server.rest.conditional import find_matches
from fhir_server.rest.context import ServerContext
from fhir_server.rest.results import InteractionResult
from fhir_server.rest.retry import retry_conflicts
from fhir_server.rest.versioning import check_id, check_if_match, same_content, write_version
from fhir_server.storage.base import StoreSession


@retry_conflicts
def patch(
    ctx: ServerContext,
    type_: str,
    id_: str,
    content_type: str,
    body: Any,
    if_match: int | None = None,
) -> InteractionResult:
    check_id(id_)
    with ctx.store.session(write=True) as session:
        return patch_in(ctx, session, type_, id_, content_type, body, if_match)


@retry_conflicts
def conditional_patch(
    ctx: ServerContext,
    type_: str,
    criteria: str,
    content_type: str,
    body: Any,
    if_match: int | None = None,
) -> InteractionResult:
    with ctx.store.session(write=True) as session:
        matches = find_matches(ctx, session, type_, criteria)
        if not matches:
            raise FhirError(404, "not-found", f"No {type_} matches {criteria!r}")
        if len(matches) > 1:
            raise FhirError(
                412, "multiple-matches", f"Criteria {criteria!r} match {len(matches)} resources"
            )
        return patch_in(ctx, session, type_, matches[0][1], content_type, body, if_match)


def patch_in(
    ctx: ServerContext,
    session: StoreSession,
    type_: str,
    id_: str,
    content_type: str,
    body: Any,
    if_match: int | None,
) -> InteractionResult:
    current = session.read(type_, id_)
    if current is None:
        raise FhirError(404, "not-found", f"{type_}/{id_} is not known")
    if current.deleted:
        raise FhirError(410, "deleted", f"{type_}/{id_} was deleted")
    check_if_match(current, if_match, f"{type_}/{id_}")
    patched = apply_patch(orjson.loads(current.body), content_type, body)
    if patched.get("resourceType") != type_ or patched.get("id") != id_:
        raise FhirError(
            422, "processing", "A patch may not change the resource's resourceType or id"
        )
    ctx.validator.validate(patched)
    if same_content(current, patched):
        return InteractionResult(200, record=current)
    warnings: list[Issue] = []  # e.g. codes outside an extensible binding
    record = write_version(ctx, session, patched, id_, current, "PATCH", warnings)
    return InteractionResult(200, record=record, issues=warnings)
