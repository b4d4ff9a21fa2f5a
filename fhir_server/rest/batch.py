"""batch: the entries of a Bundle, each on its own.

Every entry reports its own status. Runs of create/update entries share one write
session (one commit) while each still stands alone: an entry fails before its only
write, and its queued write is dropped with it.
"""

from __future__ import annotations

from fhir_server.errors import FhirError
from fhir_server.rest.bundle_entries import EntryPlan
from fhir_server.rest.bundle_execute import execute_entry, read_entry, validation_failures
from fhir_server.rest.context import RequestInfo, ServerContext
from fhir_server.rest.deferred_writes import DeferredWrites
from fhir_server.rest.results import InteractionResult
from fhir_server.rest.transaction import TransactionProcessor
from fhir_server.storage.base import StoreSession

_BATCH_GROUP = 1000  # batch entries that share one store transaction (one commit)


def run_batch(
    ctx: ServerContext,
    request: RequestInfo,
    plans: list[EntryPlan],
    denied: dict[int, FhirError],
) -> list[tuple[EntryPlan, InteractionResult]]:
    """Each entry on its own; runs of POST/PUT entries share one commit (see _batch_group)."""
    invalid = validation_failures(ctx, [p for p in plans if p.index not in denied])
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
            return read_entry(ctx, request, plan)
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
    result = execute_entry(ctx, request, session, plan)
    session.flush()
    return result
