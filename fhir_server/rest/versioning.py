"""Turning a validated resource into the next stored version of it.

The client's JSON is kept as sent; the server only sets `id`, `meta.versionId` and
`meta.lastUpdated`, and serialises once with orjson.
"""

from __future__ import annotations

import os
import re
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson

from fhir_server.abdm.identifier_rules import check_identifiers
from fhir_server.errors import FhirError, Issue
from fhir_server.instants import fhir_instant, now_utc
from fhir_server.rest.context import ServerContext
from fhir_server.search.runtime_params import on_version_written
from fhir_server.security.acting import note_touched
from fhir_server.security.facility import check_delete, stamp_write
from fhir_server.security.patient_context import check_create_right, check_patient_write
from fhir_server.storage.base import StoreSession, VersionConflict
from fhir_server.storage.records import ResourceIndex, StoredRecord, Write
from fhir_server.terminology.bindings import check_bindings
from fhir_server.workflows.rules import WriteRule, apply_delete_rules, apply_write_rules

ID_PATTERN = re.compile(r"[A-Za-z0-9\-.]{1,64}")
_SERVER_META = ("versionId", "lastUpdated")


def check_id(id_: str, where: str = "id") -> str:
    if not ID_PATTERN.fullmatch(id_):
        raise FhirError(
            400, "invalid", f"Invalid resource id {id_!r}: ids are 1-64 of [A-Za-z0-9-.]", [where]
        )
    return id_


def new_id() -> str:
    """A new server-assigned id: a time-ordered UUID (version 7, RFC 9562).

    48 bits of Unix milliseconds, then 74 random bits. Ids made one after another sort
    together, so the (type, id) indexes and the references to new resources grow at their
    end instead of at random places: a Bundle's commit writes far fewer index pages than
    with random (version 4) UUIDs. An id says when it was made, as lastUpdated does.
    """
    millis = time.time_ns() // 1_000_000
    bits = (millis & 0xFFFF_FFFF_FFFF) << 80 | int.from_bytes(os.urandom(10)) & ((1 << 80) - 1)
    bits = bits & ~(0xF << 76) | 0x7 << 76  # version 7
    bits = bits & ~(0x3 << 62) | 0x2 << 62  # variant 10
    return str(uuid.UUID(int=bits))


def stamped(resource: dict[str, Any], id_: str, version: int, last_updated: str) -> dict[str, Any]:
    """The resource as it will be served: resourceType, id and meta first."""
    meta = dict(resource.get("meta") or {})
    meta["versionId"] = str(version)
    meta["lastUpdated"] = last_updated
    out: dict[str, Any] = {"resourceType": resource["resourceType"], "id": id_, "meta": meta}
    for key, value in resource.items():
        if key not in out:
            out[key] = value
    return out


def without_server_meta(resource: dict[str, Any]) -> dict[str, Any]:
    """The content that decides whether an update changes anything."""
    out = {k: v for k, v in resource.items() if k not in ("meta", "id")}
    meta = {k: v for k, v in (resource.get("meta") or {}).items() if k not in _SERVER_META}
    if meta:
        out["meta"] = meta
    return out


def same_content(current: StoredRecord, resource: dict[str, Any]) -> bool:
    if current.deleted:
        return False
    return without_server_meta(orjson.loads(current.body)) == without_server_meta(resource)


def next_instant(previous: StoredRecord | None) -> datetime:
    """Now, but always later than the version it replaces (clocks can step back)."""
    now = now_utc()
    if previous is not None and now <= previous.last_updated:
        return previous.last_updated + timedelta(microseconds=1)
    return now


@dataclass
class PreparedVersion:
    """What a new version is, before the store is consulted: checked, stamped, indexed.

    Everything here follows from the resource, its id and the version it replaces, so a
    Bundle of creates can prepare it before taking the store's writer lock (transaction
    `speculate`); `meta.lastUpdated` is set only when the version is written.
    """

    served: dict[str, Any]
    index: ResourceIndex
    warnings: list[Issue]
    body: bytes  # `served` as JSON, with _PENDING_INSTANT where lastUpdated goes
    rules_done: frozenset[WriteRule] = frozenset()  # write rules already passed


# Stands in for meta.lastUpdated in a prepared body: swapping it for the instant when the
# version is written is cheaper than serialising the resource then (under the writer lock).
_PENDING_INSTANT = f"lastUpdated-{uuid.uuid4().hex}"
_PENDING_BYTES = _PENDING_INSTANT.encode()


def prepare_version(
    ctx: ServerContext, resource: dict[str, Any], id_: str, current: StoredRecord | None
) -> PreparedVersion:
    """Terminology bindings, identifier rules, the server's stamps and the index.

    Bindings are checked here, in the server process, because every write path (bundles
    and bulk loads too) comes through here and the value sets stored on this server are
    only known here.
    """
    warnings = check_bindings(ctx, resource)
    check_identifiers(resource, ctx.settings.aadhaar_policy, ctx.settings.aadhaar_hash_key.encode())
    version = current.version + 1 if current else 1
    served = stamped(resource, id_, version, _PENDING_INSTANT)
    served = stamp_write(
        served, current.body if current is not None else None, ctx.indexer.compartments
    )
    index = ctx.indexer.extract(served)
    return PreparedVersion(served, index, list(warnings), orjson.dumps(served))


def write_version(
    ctx: ServerContext,
    session: StoreSession,
    resource: dict[str, Any],
    id_: str,
    current: StoredRecord | None,
    method: str,
    warnings: list[Issue] | None = None,
    prepared: PreparedVersion | None = None,
) -> StoredRecord:
    """Validate-free core of every write: rules, stamp, index, persist the next version.

    `prepared` (for a create: `current` is None) skips the preparation done earlier;
    binding warnings are appended to `warnings`.
    """
    if prepared is None:
        prepared = prepare_version(ctx, resource, id_, current)
    if warnings is not None:
        warnings.extend(prepared.warnings)
    apply_write_rules(ctx, session, {**resource, "id": id_}, current, prepared.rules_done)
    served, index = prepared.served, prepared.index
    version = current.version + 1 if current else 1
    when = next_instant(current)
    instant = fhir_instant(when)
    served["meta"]["lastUpdated"] = instant
    record = StoredRecord(
        type=served["resourceType"],
        id=id_,
        version=version,
        last_updated=when,
        deleted=False,
        body=prepared.body.replace(_PENDING_BYTES, instant.encode(), 1),
        method=method,
    )
    creating = current is None or current.deleted
    if creating:
        check_create_right(record.type)
    check_patient_write(record.type, index.compartments, "c" if creating else "u")
    expected = current.version if current else 0
    try:
        session.write([Write(record, index, expected)])
    except VersionConflict as exc:
        raise conflict_error(exc) from exc
    on_version_written(ctx, served)
    note_touched(record.type, id_, index.compartments)
    return record


def conflict_error(exc: VersionConflict, retry: str = "read it and retry") -> FhirError:
    return FhirError(409, "conflict", f"{exc.type}/{exc.id} was changed concurrently; {retry}")


def write_tombstone(
    ctx: ServerContext, session: StoreSession, current: StoredRecord
) -> StoredRecord:
    check_delete(current.type, current.body, ctx.indexer.compartments)
    apply_delete_rules(ctx, session, current)
    when = next_instant(current)
    record = StoredRecord(
        type=current.type,
        id=current.id,
        version=current.version + 1,
        last_updated=when,
        deleted=True,
        body=b"",
        method="DELETE",
    )
    try:
        session.write([Write(record, None, current.version)])
    except VersionConflict as exc:
        raise conflict_error(exc, "retry the delete") from exc
    note_touched(current.type, current.id, [])
    return record


def check_if_match(current: StoredRecord | None, if_match: int | None, what: str) -> None:
    if if_match is None:
        return
    if current is None or current.deleted:
        raise FhirError(
            412, "conflict", f"If-Match version {if_match} given but {what} does not exist"
        )
    if current.version != if_match:
        raise FhirError(
            412,
            "conflict",
            f"If-Match version {if_match} is not the current version ({current.version}) of {what}",
        )
