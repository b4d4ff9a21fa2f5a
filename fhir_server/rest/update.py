"""update: PUT [base]/[type]/[id] (update-as-create allowed) and conditional update."""

from __future__ import annotations

from typing import Any

from fhir_server.errors import FhirError, Issue
from fhir_server.rest.conditional import find_matches
from fhir_server.rest.context import ServerContext
from fhir_server.rest.results import InteractionResult
from fhir_server.rest.retry import retry_conflicts
from fhir_server.rest.versioning import (
    check_id,
    check_if_match,
    new_id,
    same_content,
    write_version,
)
from fhir_server.storage.base import StoreSession


@retry_conflicts
def update(
    ctx: ServerContext,
    type_: str,
    id_: str,
    resource: dict[str, Any],
    if_match: int | None = None,
) -> InteractionResult:
    check_id(id_)
    body_id = resource.get("id")
    if body_id is None:
        raise FhirError(400, "required", "The resource in a PUT must carry its id", [f"{type_}.id"])
    if body_id != id_:
        raise FhirError(
            400,
            "invalid",
            f"The id in the body ({body_id!r}) does not match the id in the URL ({id_!r})",
            [f"{type_}.id"],
        )
    ctx.validator.validate(resource)
    with ctx.store.session(write=True) as session:
        return update_in(ctx, session, type_, id_, resource, if_match)


@retry_conflicts
def conditional_update(
    ctx: ServerContext,
    type_: str,
    criteria: str,
    resource: dict[str, Any],
    if_match: int | None = None,
) -> InteractionResult:
    ctx.validator.validate(resource)
    with ctx.store.session(write=True) as session:
        return conditional_update_in(ctx, session, type_, criteria, resource, if_match)


def conditional_update_in(
    ctx: ServerContext,
    session: StoreSession,
    type_: str,
    criteria: str,
    resource: dict[str, Any],
    if_match: int | None = None,
) -> InteractionResult:
    session.lock(f"update:{type_}?{criteria}")
    matches = find_matches(ctx, session, type_, criteria)
    if len(matches) > 1:
        raise FhirError(
            412, "multiple-matches", f"Criteria {criteria!r} match {len(matches)} resources"
        )
    body_id = resource.get("id")
    if matches:
        id_ = matches[0][1]
        if body_id is not None and body_id != id_:
            raise FhirError(
                400,
                "invalid",
                f"The id in the body ({body_id!r}) is not the matched resource's id ({id_!r})",
                [f"{type_}.id"],
            )
    else:
        id_ = check_id(body_id, f"{type_}.id") if body_id else new_id()
    return update_in(ctx, session, type_, id_, resource, if_match)


def update_in(
    ctx: ServerContext,
    session: StoreSession,
    type_: str,
    id_: str,
    resource: dict[str, Any],
    if_match: int | None,
) -> InteractionResult:
    current = session.read(type_, id_)
    check_if_match(current, if_match, f"{type_}/{id_}")
    if current is not None and same_content(current, resource):
        # no-op update: nothing changed, so no new version
        return InteractionResult(200, record=current)
    warnings: list[Issue] = []  # e.g. codes outside an extensible binding
    record = write_version(ctx, session, resource, id_, current, "PUT", warnings)
    created = current is None or current.deleted
    return InteractionResult(
        201 if created else 200, record=record, location=created, issues=warnings
    )
