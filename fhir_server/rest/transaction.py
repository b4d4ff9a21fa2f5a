"""transaction: the entries of a Bundle, all or nothing (TransactionProcessor).

A transaction runs in one write session of the store: ids are assigned first, then
every `urn:uuid:`/`urn:oid:` fullUrl and every conditional reference is resolved and
rewritten wherever it appears, then entries run in the order the spec prescribes
(DELETE, POST, PUT/PATCH, GET). Any failure rolls the whole session back and the
response is one OperationOutcome naming the entry.

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

from collections.abc import Callable
from typing import Any

from fhir_server.errors import FhirError
from fhir_server.rest.bundle_entries import PROCESSING_ORDER, EntryPlan, entry_error
from fhir_server.rest.bundle_execute import execute_entry, validation_failures
from fhir_server.rest.conditional import find_matches
from fhir_server.rest.context import RequestInfo, ServerContext
from fhir_server.rest.create import existing_match
from fhir_server.rest.deferred_writes import DeferredWrites
from fhir_server.rest.results import InteractionResult
from fhir_server.rest.versioning import PreparedVersion, check_id, new_id, prepare_version
from fhir_server.storage.base import StoreSession
from fhir_server.validation.additional_types import SERVER_RESOURCE_TYPES
from fhir_server.workflows.integrity import references_must_exist


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
        invalid = validation_failures(self.ctx, plans)
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
                    plan, lambda p=plan: execute_entry(self.ctx, self.request, session, p)
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
