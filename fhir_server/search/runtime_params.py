"""SearchParameter resources stored at run time: loaded at start-up, kept in step cheaply.

Several worker processes share one store, and each has its own registry; every one of
them must index and search with the SearchParameters any of them stored. So before each
interaction a process compares a *signature* of the stored SearchParameter resources —
how many there are, and the newest one's (lastUpdated, id, version) — with the one it
loaded last. That is one indexed count and one single-row keyset read; only when the
signature differs are the active SearchParameters read again and the registry rebuilt.

Any create, update or delete of a SearchParameter changes the signature (a delete lowers
the count; an update or create moves the newest lastUpdated). A write in this process
also registers the parameter at once, so later entries of the same transaction Bundle are
indexed with it, and marks the signature stale so the next check reloads from the store
(which also drops a registration whose transaction rolled back).

A runtime parameter finds existing resources only after `$reindex`; resources written
after it is registered are indexed with it at write time.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import orjson

from fhir_server.errors import FhirError
from fhir_server.search.registry import SearchParam, SearchParameterRegistry
from fhir_server.storage.base import Store, StoreSession
from fhir_server.storage.query import SearchQuery, SortKey

if TYPE_CHECKING:
    from fhir_server.rest.context import ServerContext

log = logging.getLogger("fhir_server.search.runtime_params")

Signature = tuple[int, str | None, str | None, int | None]
RESOURCE_TYPE = "SearchParameter"


class RuntimeSearchParameters:
    def __init__(
        self, registry: SearchParameterRegistry, store: Store, recheck_seconds: float = 0.0
    ) -> None:
        self.registry = registry
        self.store = store
        # 0 = check before every interaction (about two index look-ups); more trades how
        # soon other workers' SearchParameters show for fewer checks
        self.recheck_seconds = recheck_seconds
        self._signature: Signature | None = None
        self._checked_at = 0.0
        self._stale = True
        self._lock = threading.Lock()

    def refresh(self) -> None:
        """Bring the registry in line with the stored SearchParameters if they changed."""
        now = time.monotonic()
        if not self._stale and now - self._checked_at < self.recheck_seconds:
            return
        with self._lock:
            stale, self._stale = self._stale, False
            with self.store.session() as session:
                signature = _signature(session)
                if stale or signature != self._signature:
                    self.registry.set_runtime(self._load(session))
                    self._signature = signature
            self._checked_at = now

    def observe_write(self, resource: Mapping[str, Any]) -> None:
        """A SearchParameter version was just written in this process (inside its session)."""
        if resource.get("status") == "active":
            self.registry.register(resource)  # 400 naming the field if it cannot be used
        self._stale = True

    def _load(self, session: StoreSession) -> list[SearchParam]:
        params: list[SearchParam] = []
        for record in _current(session):
            resource = orjson.loads(record.body)
            if resource.get("status") != "active":
                continue
            try:
                params.append(self.registry.check(resource))
            except FhirError as exc:
                # stored before it was checked (e.g. a store without transactions): skip
                log.warning("SearchParameter/%s is not usable: %s", record.id, exc.diagnostics)
        return params


def on_version_written(ctx: ServerContext, resource: Mapping[str, Any]) -> None:
    """The write-path hook (rest/versioning.write_version): cheap for every other type."""
    if resource.get("resourceType") == RESOURCE_TYPE and ctx.search_parameters is not None:
        ctx.search_parameters.observe_write(resource)


def _signature(session: StoreSession) -> Signature:
    page = session.search(
        SearchQuery(
            types=(RESOURCE_TYPE,),
            sort=(SortKey("_lastUpdated", descending=True),),
            count=1,
            total="accurate",
        )
    )
    if not page.records:
        return (0, None, None, None)
    newest = page.records[0]
    return (page.total or 0, newest.last_updated.isoformat(), newest.id, newest.version)


def _current(session: StoreSession) -> list[Any]:
    # SearchParameters are few: read them page by page through the port's keyset paging
    records: list[Any] = []
    cursor: str | None = None
    while True:
        page = session.search(
            SearchQuery(types=(RESOURCE_TYPE,), sort=(SortKey("_id"),), count=500, cursor=cursor)
        )
        records += page.records
        cursor = page.next_cursor
        if cursor is None:
            return records
