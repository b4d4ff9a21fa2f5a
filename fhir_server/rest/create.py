"""create: POST [base]/[type], optionally conditional (If-None-Exist)."""

from __future__ import annotations

from typing import Any

from fhir_server.errors import FhirError, Issue
from fhir_server.rest.conditional import find_matches
from fhir_server.rest.context import ServerContext
from fhir_server.rest.results import InteractionResult
from fhir_server.rest.retry import retry_conflicts
from fhir_server.rest.versioning import PreparedVersion, new_id, write_version
from fhir_server.security.acting import current_principal
from fhir_server.security.consent import visibility
from fhir_server.storage.base import StoreSession


@retry_conflicts
def create(
    ctx: ServerContext, type_: str, resource: dict[str, Any], if_none_exist: str | None = None
) -> InteractionResult:
    ctx.validator.validate(resource)
    with ctx.store.session(write=True) as session:
        return create_in(ctx, session, type_, resource, if_none_exist)


def existing_match(
    ctx: ServerContext, session: StoreSession, type_: str, if_none_exist: str
) -> InteractionResult | None:
    """The If-None-Exist outcome when a resource already matches, else None."""
    # lock + match + write happen in one write session: race-free (ADR 0004)
    session.lock(f"create:{type_}?{if_none_exist}")
    matches = find_matches(ctx, session, type_, if_none_exist)
    if len(matches) > 1:
        raise FhirError(
            412,
            "duplicate",
            f"If-None-Exist criteria {if_none_exist!r} match {len(matches)} resources",
        )
    if matches:
        record = session.read(*matches[0])
        if record is not None:
            # the match is returned as the result: it must be readable by the caller, and
            # another facility's record stays hidden
            principal = current_principal()
            if principal is not None:
                principal.require(type_, "r", "a conditional create that matched")
            visibility(ctx, session).require(record)
        return InteractionResult(200, record=record)
    return None


def create_in(
    ctx: ServerContext,
    session: StoreSession,
    type_: str,
    resource: dict[str, Any],
    if_none_exist: str | None = None,
    id_: str | None = None,
    prepared: PreparedVersion | None = None,
) -> InteractionResult:
    """Create inside an open write session (validation already done by the caller)."""
    if if_none_exist:
        existing = existing_match(ctx, session, type_, if_none_exist)
        if existing is not None:
            return existing
    # a client-supplied id on create is ignored: create assigns the id
    warnings: list[Issue] = []  # e.g. codes outside an extensible binding
    record = write_version(
        ctx, session, resource, id_ or new_id(), None, "POST", warnings, prepared
    )
    return InteractionResult(201, record=record, location=True, issues=warnings)
