"""batch and transaction: POST [base] with a Bundle (TransactionProcessor).

A transaction runs in one write session of the store: ids are assigned first, then
every `urn:uuid:`/`urn:oid:` fullUrl and every conditional reference is resolved and
rewritten wherever it appears, then entries run in the order the spec prescribes
(DELETE, POST, PUT/PATCH, GET). Any failure rolls the whole session back and the
response is one OperationOutcome naming the entry. A batch runs each entry on its own.

Concurrent Bundles of creates (the bulk-ingest shape: every entry a POST) do most of
their work outside the store's writer lock, so that several server processes load
Bundles side by side (`speculate`): ids, references and each new version (bindings,
stamps, index) are prepared in a read session, noting every store look-up they used.
The write session then trusts them if nothing was committed in between, or runs each
look-up again; should any answer differ, every rewrite is undone and the Bundle runs
the ordinary way, under the lock. Rules that read the store (referential integrity,
workflows) and `lastUpdated` stay under the lock.

Bulk speed: every resource is validated before the session starts (≈ 13 µs each, see
validation/compiled.py), the entries' writes reach the store in one call
(`DeferredWrites`), and each distinct ifNoneExist or conditional reference criteria is
matched once per Bundle.
"""

from __future__ import annotations

import base64
import binascii
import threading
from collections.abc import Callable
from contextlib import nullcontext
from typing import Any
from urllib.parse import parse_qsl

import orjson

from fhir_server.errors import FhirError, Issue, operation_outcome
from fhir_server.instants import fhir_instant
from fhir_server.rest import delete as delete_
from fhir_server.rest import history as history_
from fhir_server.rest import patch as patch_
from fhir_server.rest import read as read_
from fhir_server.rest import search as search_
from fhir_server.rest import update as update_
from fhir_server.rest.bundle_entries import PROCESSING_ORDER, EntryPlan, entry_error, plan_entries
from fhir_server.rest.bundles import bundle, entry, etag
from fhir_server.rest.conditional import find_matches
from fhir_server.rest.context import RequestInfo, ServerContext
from fhir_server.rest.create import create_in, existing_match
from fhir_server.rest.deferred_writes import DeferredWrites
from fhir_server.rest.results import InteractionResult
from fhir_server.rest.retry import retry_conflicts
from fhir_server.rest.versioning import PreparedVersion, check_id, new_id, prepare_version
from fhir_server.security.access import ALL_TYPES, Needs, request_needs
from fhir_server.security.acting import current_principal
from fhir_server.security.principal import ScopeDenied
from fhir_server.security.scopes import PERMISSIONS
from fhir_server.storage.base import StoreSession
from fhir_server.validation.additional_types import SERVER_RESOURCE_TYPES
from fhir_server.validation.json_body import parse_json_body
from fhir_server.workflows.integrity import references_must_exist

_REASONS = {
    200: "OK",
    201: "Created",
    204: "No Content",
    304: "Not Modified",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    410: "Gone",
    412: "Precondition Failed",
    413: "Payload Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Entity",
    500: "Internal Server Error",
}


# Big Bundles run one at a time in a server process. Their work is Python, so two in one
# process share one core (the GIL) and each takes twice as long; worse, one of them may
# hold the store's writer lock while waiting for the GIL, and every other process waits
# with it. Other processes still load their own Bundles side by side. Measured with two
# workers and four clients: ≈ 5 % more resources/s (benchmarks/ingest.py).
BIG_BUNDLE_ENTRIES = 100
_BIG_BUNDLES = threading.RLock()  # re-entrant: an operation may run a Bundle inside one


def process_bundle(
    ctx: ServerContext, request: RequestInfo, body: Any, return_pref: str = "minimal"
) -> InteractionResult:
    if not isinstance(body, dict) or body.get("resourceType") != "Bundle":
        raise FhirError(
            400, "invalid", "POST to the base takes a Bundle of type batch or transaction"
        )
    kind = body.get("type")
    if kind not in ("batch", "transaction"):
        raise FhirError(
            400,
            "invalid",
            f"Bundle.type must be batch or transaction here, got {kind!r}"
            " (store other Bundles with POST /fhir/Bundle)",
            ["Bundle.type"],
        )
    plans = plan_entries(body, request.base_url)
    denied = _scope_denials(plans)
    with _BIG_BUNDLES if len(plans) >= BIG_BUNDLE_ENTRIES else nullcontext():
        if kind == "transaction":
            if denied:  # every entry is checked before anything is written
                index = min(denied)
                raise entry_error(index, denied[index])
            responses = TransactionProcessor(ctx, request).run(plans)
        else:
            responses = _run_batch(ctx, request, plans, denied)
    entries = [_response_entry(request, plan, result, return_pref) for plan, result in responses]
    return InteractionResult(200, body=bundle(f"{kind}-response", entries))


@retry_conflicts
def process_bundle_json(
    ctx: ServerContext,
    request: RequestInfo,
    raw: bytes,
    max_depth: int,
    return_pref: str = "minimal",
) -> InteractionResult:
    """`process_bundle` on the client's bytes, parsed afresh on every try.

    MongoDB aborts the later of two conflicting transactions; the Bundle then runs again.
    A transaction rewrites its entries in place (ids, references), so a retry must start
    from the client's JSON, not from the first try's leftovers.
    """
    return process_bundle(ctx, request, parse_json_body(raw, max_depth), return_pref)


class TransactionProcessor:
    def __init__(self, ctx: ServerContext, request: RequestInfo) -> None:
        self.ctx = ctx
        self.request = request
        self.ids: dict[str, str] = {}  # fullUrl -> "Type/id"
        self._conditional: dict[str, str] = {}  # "Type?criteria" -> "Type/id"
        self._matched: dict[str, InteractionResult | None] = {}  # ifNoneExist outcomes
        # (container, key, value before) of every rewrite, while speculating
        self._rewrites: list[tuple[Any, Any, str]] | None = None

    def run(self, plans: list[EntryPlan]) -> list[tuple[EntryPlan, InteractionResult]]:
        invalid = _validation_failures(self.ctx, plans)
        if invalid:
            first = min(invalid)
            raise entry_error(first, FhirError(400, "invalid", "", issues=invalid[first]))
        marker = self.speculate(plans) if _speculative(plans) else None
        results = self._write(plans, marker)
        return [(plan, results[plan.index]) for plan in plans]

    # -- speculation: a Bundle of creates prepared outside the writer lock --------------
    def speculate(self, plans: list[EntryPlan]) -> object | None:
        """Prepare ids, references and new versions in a read session.

        Returns the store's change marker taken before the first look-up, or None when
        nothing was prepared (the store cannot tell about commits, or an entry failed:
        the ordinary path then reports it exactly as it would have).
        """
        self._rewrites = []
        try:
            with self.ctx.store.session() as store_session:
                marker = store_session.change_marker()
                if marker is None:
                    self._rewrites = None
                    return None
                session = DeferredWrites(store_session)  # (nothing is written: a read view)
                self._resolve_all(session, plans)
                session.planned = _planned_keys(plans)
                for plan in plans:
                    if not plan.skipped_write:
                        plan.prepared = self._guard(plan, lambda p=plan: self._prepare(session, p))
            return marker
        except FhirError:
            self._undo(plans)
            return None

    def _prepare(self, session: StoreSession, plan: EntryPlan) -> PreparedVersion:
        """The new version, and the referential-integrity rule passed on this snapshot."""
        assert plan.resource is not None and plan.assigned_id is not None
        prepared = prepare_version(self.ctx, plan.resource, plan.assigned_id, None)
        references_must_exist(self.ctx, session, {**plan.resource, "id": plan.assigned_id}, None)
        prepared.rules_done = frozenset({references_must_exist})
        return prepared

    def _still_true(self, session: StoreSession, marker: object, plans: list[EntryPlan]) -> bool:
        """Whether every look-up made while speculating gives the same answer now."""
        if session.change_marker() == marker:
            return True  # nothing was committed since: nothing can have changed
        for plan in plans:  # a target may have been deleted meanwhile: check again
            if plan.prepared is not None:
                plan.prepared.rules_done = frozenset()
        for key, expected in self._matched.items():
            type_, _, criteria = key.partition("?")
            again = existing_match(self.ctx, session, type_, criteria)
            if (again and again.record and again.record.id) != (
                expected and expected.record and expected.record.id
            ):
                return False
            self._matched[key] = again
        for reference, resolved in self._conditional.items():
            type_, _, criteria = reference.partition("?")
            if [f"{t}/{i}" for t, i in find_matches(self.ctx, session, type_, criteria)] != [
                resolved
            ]:
                return False
        return True

    def _undo(self, plans: list[EntryPlan]) -> None:
        """Put every rewritten reference back and forget what speculation decided."""
        for container, key, before in reversed(self._rewrites or ()):
            container[key] = before
        self._rewrites = None  # what runs next, under the lock, is final
        self.ids.clear()
        self._conditional.clear()
        self._matched.clear()
        for plan in plans:
            plan.assigned_id = None
            plan.skipped_write = False
            plan.outcome = None
            plan.prepared = None

    def _resolve_all(self, session: StoreSession, plans: list[EntryPlan]) -> None:
        for plan in plans:
            self._guard(plan, lambda p=plan: self.assign_id(session, p))
        for plan in plans:
            if plan.resource is not None:
                self._guard(plan, lambda p=plan: self.rewrite_references(session, p.resource))

    def _write(self, plans: list[EntryPlan], marker: object | None) -> dict[int, InteractionResult]:
        results: dict[int, InteractionResult] = {}
        with self.ctx.store.session(write=True) as store_session:
            session = DeferredWrites(store_session)
            if marker is not None:
                try:
                    trusted = self._still_true(session, marker, plans)
                except FhirError:
                    trusted = False
                if not trusted:
                    self._undo(plans)
                    marker = None
            if marker is None:
                self._resolve_all(session, plans)
            else:  # the matched If-None-Exist outcomes were read again
                for plan in plans:
                    if plan.skipped_write and plan.if_none_exist:
                        plan.outcome = self._matched[f"{plan.type}?{plan.if_none_exist}"]
            session.planned = _planned_keys(plans)
            for plan in sorted(plans, key=lambda p: (PROCESSING_ORDER[p.method], p.index)):
                if plan.method in ("GET", "HEAD"):
                    session.flush()  # reads open their own view of the store
                session.entry = plan.index
                results[plan.index] = self._guard(
                    plan, lambda p=plan: _execute(self.ctx, self.request, session, p)
                )
            session.flush()
        return results

    @staticmethod
    def _guard(plan: EntryPlan, step: Callable[[], Any]) -> Any:
        try:
            return step()
        except FhirError as error:
            raise entry_error(plan.index, error) from None

    def assign_id(self, session: StoreSession, plan: EntryPlan) -> None:
        assert plan.type is not None or plan.method in ("GET", "HEAD")
        if plan.method == "POST":
            if plan.if_none_exist:
                existing = self._existing(session, plan.type, plan.if_none_exist)
                if existing is not None and existing.record is not None:
                    plan.skipped_write = True
                    plan.outcome = existing
                    self._map(plan, f"{plan.type}/{existing.record.id}")
                    return
            plan.assigned_id = new_id()
            self._map(plan, f"{plan.type}/{plan.assigned_id}")
        elif plan.method == "PUT":
            if plan.id is not None:
                self._map(plan, f"{plan.type}/{plan.id}")
                return
            matches = find_matches(self.ctx, session, plan.type, plan.query)
            if len(matches) > 1:
                raise FhirError(
                    412, "multiple-matches", f"{plan.url!r} matches {len(matches)} resources"
                )
            if matches:
                plan.assigned_id = matches[0][1]
            else:
                body_id = (plan.resource or {}).get("id")
                plan.assigned_id = check_id(body_id, "resource.id") if body_id else new_id()
            self._map(plan, f"{plan.type}/{plan.assigned_id}")

    def _existing(
        self, session: StoreSession, type_: str, criteria: str
    ) -> InteractionResult | None:
        # entries of one Bundle that share criteria are matched once
        key = f"{type_}?{criteria}"
        if key not in self._matched:
            self._matched[key] = existing_match(self.ctx, session, type_, criteria)
        return self._matched[key]

    def _map(self, plan: EntryPlan, local: str) -> None:
        if plan.full_url:
            self.ids[plan.full_url] = local

    def rewrite_references(self, session: StoreSession, value: dict[str, Any] | list) -> None:
        """Rewrite, in place, every reference to an entry or a conditional reference.

        In place because the bundle is ours to consume and a Synthea resource has hundreds
        of elements: copying them all cost more than resolving. A plain string equal to an
        entry's fullUrl (a valueUri, an attachment url) names that entry too.
        """
        ids = self.ids
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, item in items:
            kind = type(item)
            if kind is dict or kind is list:
                self.rewrite_references(session, item)
            elif kind is str:
                if key == "reference":
                    resolved = self._resolve(session, item)
                elif item in ids:
                    resolved = ids[item]
                else:
                    continue
                if resolved != item:
                    if self._rewrites is not None:
                        self._rewrites.append((value, key, item))
                    value[key] = resolved

    def _resolve(self, session: StoreSession, reference: str) -> str:
        if reference in self.ids:
            return self.ids[reference]
        if reference.startswith(("urn:uuid:", "urn:oid:")):
            raise FhirError(
                404, "not-found", f"reference {reference!r} names no fullUrl in this Bundle"
            )
        type_, question, criteria = reference.partition("?")
        if question and type_ in SERVER_RESOURCE_TYPES:
            resolved = self._conditional.get(reference)
            if resolved is None:
                matches = find_matches(self.ctx, session, type_, criteria)
                if len(matches) != 1:
                    found = "no resource" if not matches else f"{len(matches)} resources"
                    raise FhirError(
                        412,
                        "not-found" if not matches else "multiple-matches",
                        f"conditional reference {reference!r} matches {found} (exactly one needed)",
                    )
                resolved = f"{matches[0][0]}/{matches[0][1]}"
                self._conditional[reference] = resolved
            return resolved
        return reference


def _planned_keys(plans: list[EntryPlan]) -> frozenset[tuple[str, str]]:
    """What the Bundle writes: entries may reference each other in any order, so these
    count as existing for the referential-integrity rule."""
    return frozenset(
        (plan.type, plan.id or plan.assigned_id)  # type: ignore[misc]
        for plan in plans
        if plan.method in ("POST", "PUT") and plan.type and (plan.id or plan.assigned_id)
    )


# Writing one of these changes how later entries are checked or indexed, so a Bundle
# holding one must prepare each entry after the ones before it are written.
_CHANGES_LATER_WRITES = frozenset({"SearchParameter", "ValueSet", "CodeSystem", "ConceptMap"})


def _speculative(plans: list[EntryPlan]) -> bool:
    """Only Bundles of creates are prepared outside the lock (see the module docstring)."""
    return all(p.method == "POST" and p.type not in _CHANGES_LATER_WRITES for p in plans)


def _execute(
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
    return _read_entry(ctx, request, plan)


def _read_entry(ctx: ServerContext, request: RequestInfo, plan: EntryPlan) -> InteractionResult:
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


_BATCH_GROUP = 1000  # batch entries that share one store transaction (one commit)


def _scope_denials(plans: list[EntryPlan]) -> dict[int, FhirError]:
    """Entries the caller's scopes do not allow, each with its 403."""
    principal = current_principal()
    if principal is None:
        return {}
    denied: dict[int, FhirError] = {}
    for plan in plans:
        path = plan.url.partition("?")[0]
        parts = [p for p in path.split("/") if p]
        needs = request_needs(plan.method, parts, parse_qsl(plan.query))
        if needs.checked_inside:  # an operation inside a Bundle: it needs every right
            needs = Needs(tuple((ALL_TYPES, p) for p in PERMISSIONS), interaction="operation")
        for type_, permission in needs.grants:
            if not principal.allows(type_, permission):
                denied[plan.index] = ScopeDenied(type_, permission, needs.interaction)
                break
    return denied


def _run_batch(
    ctx: ServerContext,
    request: RequestInfo,
    plans: list[EntryPlan],
    denied: dict[int, FhirError],
) -> list[tuple[EntryPlan, InteractionResult]]:
    """Each entry on its own; runs of POST/PUT entries share one commit (see _batch_group)."""
    invalid = _validation_failures(ctx, [p for p in plans if p.index not in denied])
    results: dict[int, InteractionResult] = {}
    group: list[EntryPlan] = []
    for plan in plans:
        if plan.index in denied:
            error = denied[plan.index]
            results[plan.index] = InteractionResult(error.status, issues=error.issues)
        elif plan.index in invalid:
            results[plan.index] = InteractionResult(400, issues=invalid[plan.index])
        elif plan.method in ("POST", "PUT") and len(group) < _BATCH_GROUP:
            group.append(plan)
        else:
            results.update(_batch_group(ctx, request, group))
            group = []
            if plan.method in ("POST", "PUT"):
                group.append(plan)
            else:
                results[plan.index] = _batch_entry(ctx, request, plan)
    results.update(_batch_group(ctx, request, group))
    return [(plan, results[plan.index]) for plan in plans]


def _batch_group(
    ctx: ServerContext, request: RequestInfo, plans: list[EntryPlan]
) -> dict[int, InteractionResult]:
    """Create/update entries in one write session: one commit (fsync) instead of one each.

    Each entry still stands alone: it fails before its only write, and its queued write is
    dropped with it. Should the store itself fail (a MongoDB write conflict aborts the
    whole transaction), the group rolls back and every entry runs again on its own.
    """
    if len(plans) < 2:
        return {plan.index: _batch_entry(ctx, request, plan) for plan in plans}
    results: dict[int, InteractionResult] = {}
    try:
        with ctx.store.session(write=True) as store_session:
            for plan in plans:
                try:
                    results[plan.index] = _entry_in(ctx, request, store_session, plan)
                except FhirError as error:
                    if getattr(error, "retryable", False):
                        raise _StoreFailure() from error  # the store aborted the session
                    results[plan.index] = InteractionResult(error.status, issues=error.issues)
    except _StoreFailure:
        return {plan.index: _batch_entry(ctx, request, plan) for plan in plans}
    return results


class _StoreFailure(Exception):
    """A failure of the shared session rather than of one entry."""


def _batch_entry(ctx: ServerContext, request: RequestInfo, plan: EntryPlan) -> InteractionResult:
    try:
        if plan.method in ("GET", "HEAD"):
            return _read_entry(ctx, request, plan)
        with ctx.store.session(write=True) as session:
            return _entry_in(ctx, request, session, plan)
    except FhirError as error:
        return InteractionResult(error.status, issues=error.issues)


def _entry_in(
    ctx: ServerContext, request: RequestInfo, store_session: StoreSession, plan: EntryPlan
) -> InteractionResult:
    """One batch entry inside a write session; its write is queued until it has succeeded."""
    session = DeferredWrites(store_session)
    processor = TransactionProcessor(ctx, request)
    processor.assign_id(session, plan)
    if plan.resource is not None:
        processor.rewrite_references(session, plan.resource)
    result = _execute(ctx, request, session, plan)
    session.flush()
    return result


def _validation_failures(ctx: ServerContext, plans: list[EntryPlan]) -> dict[int, list[Issue]]:
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


def _response_entry(
    request: RequestInfo, plan: EntryPlan, result: InteractionResult, return_pref: str
) -> bytes:
    status = f"{result.status} {_REASONS.get(result.status, '')}".strip()
    response: dict[str, Any] = {"status": status}
    record = result.record
    full_url = None
    resource: bytes | None = None
    if record is not None:
        full_url = f"{request.base_url}/{record.type}/{record.id}"
        response["etag"] = etag(record)
        response["lastModified"] = fhir_instant(record.last_updated)
        if plan.method in ("POST", "PUT", "PATCH") and not record.deleted:
            response["location"] = f"{record.type}/{record.id}/_history/{record.version}"
        if not record.deleted and (
            plan.method in ("GET", "HEAD") or return_pref == "representation"
        ):
            resource = record.body
    elif result.body is not None:
        resource = result.body  # a searchset / history Bundle for a GET entry
    if result.status >= 400:
        response["outcome"] = operation_outcome(result.issues)
    elif return_pref == "OperationOutcome" or (
        result.issues and record is None and resource is None
    ):
        issues = result.issues or [Issue("information", "informational", status)]
        response["outcome"] = operation_outcome(issues)
    if plan.method == "HEAD":
        resource = None
    return entry(full_url, resource, response=response)
