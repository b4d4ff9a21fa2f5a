"""read and vread: GET [base]/[type]/[id] and .../_history/[vid]."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson

from fhir_server.errors import FhirError
from fhir_server.instants import fhir_instant
from fhir_server.rest.context import ServerContext
from fhir_server.rest.results import InteractionResult
from fhir_server.rest.versioning import check_id, stamped
from fhir_server.security.consent import visibility
from fhir_server.storage.records import StoredRecord


def read(ctx: ServerContext, type_: str, id_: str) -> InteractionResult:
    check_id(id_)
    with ctx.store.session() as session:
        record = session.read(type_, id_)
        if record is not None and not record.deleted:
            visibility(ctx, session).require(record)
    if record is None and type_ == "OperationDefinition":
        record = _builtin_definition(ctx, id_)
    return InteractionResult(200, record=_present(record, f"{type_}/{id_}"))


def _builtin_definition(ctx: ServerContext, id_: str) -> StoredRecord | None:
    """This server's own OperationDefinitions, served read-only (not stored)."""
    from fhir_server.operations.definitions import builtin_definition

    definition = builtin_definition(id_)
    if definition is None:
        return None
    started = datetime.fromtimestamp(ctx.started or 0, UTC)
    body = orjson.dumps(stamped(definition, id_, 1, fhir_instant(started)))
    return StoredRecord("OperationDefinition", id_, 1, started, False, body, "PUT")


def vread(ctx: ServerContext, type_: str, id_: str, version: str) -> InteractionResult:
    check_id(id_)
    if not version.isdigit():
        raise FhirError(400, "invalid", f"Invalid version id {version!r}: versions are integers")
    with ctx.store.session() as session:
        record = session.vread(type_, id_, int(version))
        if record is None:
            exists = session.read(type_, id_) is not None
        elif not record.deleted:
            visibility(ctx, session).require(record)
    if record is None:
        what = f"Version {version} of {type_}/{id_}" if exists else f"{type_}/{id_}"
        raise FhirError(404, "not-found", f"{what} is not known")
    if record.deleted:
        raise FhirError(410, "deleted", f"Version {version} of {type_}/{id_} is a deletion")
    return InteractionResult(200, record=record)


def _present(record: StoredRecord | None, what: str) -> StoredRecord:
    if record is None:
        raise FhirError(404, "not-found", f"{what} is not known")
    if record.deleted:
        raise FhirError(
            410, "deleted", f"{what} was deleted (version {record.version - 1} was the last)"
        )
    return record
