"""create: POST [base]/[type], optionally conditional (If-None-Exist)."""

from __future__ import annotations

from typing import Any

from fhir_server.errors import FhirError
from fhir_server.rest.conditional import find_matches
from fhir_server.rest.context import ServerContext
from fhir_server.rest.results import InteractionResult
from fhir_server.rest.versioning import new_id, write_version


def create(
    ctx: ServerContext, type_: str, resource: dict[str, Any], if_none_exist: str | None = None
) -> InteractionResult:
    ctx.validator.validate(resource)
    with ctx.store.session(write=True) as session:
        if if_none_exist:
            # the lock + match + write happen in one write session: race-free
            session.lock(f"create:{type_}?{if_none_exist}")
            matches = find_matches(ctx, session, type_, if_none_exist)
            if len(matches) > 1:
                raise FhirError(
                    412,
                    "duplicate",
                    f"If-None-Exist criteria {if_none_exist!r} match {len(matches)} resources",
                )
            if matches:
                existing = session.read(*matches[0])
                return InteractionResult(200, record=existing)
        # a client-supplied id on create is ignored (FHIR create assigns the id)
        record = write_version(ctx, session, resource, new_id(), None, "POST")
    return InteractionResult(201, record=record, location=True)
