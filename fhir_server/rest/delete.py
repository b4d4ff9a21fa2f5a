"""delete: DELETE [base]/[type]/[id] and conditional delete by search criteria."""

from __future__ import annotations

from fhir_server.errors import FhirError, Issue
from fhir_server.rest.conditional import find_matches
from fhir_server.rest.context import ServerContext
from fhir_server.rest.results import InteractionResult
from fhir_server.rest.retry import retry_conflicts
from fhir_server.rest.versioning import check_id, check_if_match, write_tombstone
from fhir_server.storage.base import StoreSession


@retry_conflicts
def delete(
    ctx: ServerContext, type_: str, id_: str, if_match: int | None = None
) -> InteractionResult:
    check_id(id_)
    with ctx.store.session(write=True) as session:
        return delete_in(ctx, session, type_, id_, if_match)


def delete_in(
    ctx: ServerContext, session: StoreSession, type_: str, id_: str, if_match: int | None = None
) -> InteractionResult:
    current = session.read(type_, id_)
    if current is None:
        raise FhirError(404, "not-found", f"{type_}/{id_} is not known")
    if current.deleted:
        # deleting again is a no-op: no new version
        return InteractionResult(204)
    check_if_match(current, if_match, f"{type_}/{id_}")
    return InteractionResult(204, record=write_tombstone(ctx, session, current))


@retry_conflicts
def conditional_delete(ctx: ServerContext, type_: str, criteria: str) -> InteractionResult:
    with ctx.store.session(write=True) as session:
        return conditional_delete_in(ctx, session, type_, criteria)


def conditional_delete_in(
    ctx: ServerContext, session: StoreSession, type_: str, criteria: str
) -> InteractionResult:
    multiple = ctx.settings.allow_multiple_delete
    matches = find_matches(ctx, session, type_, criteria, limit=None if multiple else 2)
    if len(matches) > 1 and not multiple:
        raise FhirError(
            412,
            "multiple-matches",
            f"Criteria {criteria!r} match {len(matches)} resources and this server deletes"
            " only one by condition (setting FHIR_ALLOW_MULTIPLE_DELETE)",
        )
    for key in matches:
        current = session.read(*key)
        if current is not None and not current.deleted:
            write_tombstone(ctx, session, current)
    note = Issue("information", "informational", f"Deleted {len(matches)} resource(s)")
    return InteractionResult(200, issues=[note])
