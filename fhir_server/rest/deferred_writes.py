"""A write session that holds writes back, so that a whole Bundle persists in one store call.

The interactions (create_in, update_in, ...) write one version at a time; wrapped in
`DeferredWrites` their writes queue up and go to the store in one `write()` (one
executemany per table on SQLite, one insert_many on MongoDB). A read of a queued resource
is answered from the queue (the record the write will store); anything else that could
observe a queued write (a search, history) flushes the queue first. Either way the
interactions see exactly what they would see unwrapped.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from fhir_server.rest.bundle_entries import entry_error
from fhir_server.rest.versioning import conflict_error
from fhir_server.storage.base import HistoryPage, HistoryQuery, StoreSession, VersionConflict
from fhir_server.storage.query import Predicate, SearchPage, SearchQuery
from fhir_server.storage.records import StoredRecord, Write

Key = tuple[str, str]


class DeferredWrites:
    def __init__(self, session: StoreSession) -> None:
        self.session = session
        self.entry: int | None = None  # the Bundle entry whose writes are being queued
        self.planned: frozenset[Key] = frozenset()  # resources this Bundle will write
        self.confirmed: set[Key] = set()  # found to exist in this session (integrity rule)
        self._queue: list[Write] = []
        self._entries: dict[Key, int | None] = {}  # queued key -> entry that wrote it
        self._queued: dict[Key, StoredRecord] = {}  # queued key -> the version it writes

    def flush(self) -> None:
        if not self._queue:
            return
        writes, entries = self._queue, self._entries
        self._queue, self._entries, self._queued = [], {}, {}
        try:
            self.session.write(writes)
        except VersionConflict as exc:
            error = conflict_error(exc)
            entry = entries.get((exc.type, exc.id))
            raise (error if entry is None else entry_error(entry, error)) from exc

    # -- writes ------------------------------------------------------------------------
    def write(self, writes: Sequence[Write]) -> None:
        for w in writes:
            key = (w.record.type, w.record.id)
            if w.record.deleted:
                self.confirmed.discard(key)
            if key in self._entries:
                self.flush()  # the store checks each version against the one before it
            self._queue.append(w)
            self._entries[key] = self.entry
            self._queued[key] = w.record

    def lock(self, key: str) -> None:
        self.session.lock(key)

    def change_marker(self) -> object | None:
        return self.session.change_marker()

    # -- reads: from the queue, or flushed first whenever they could see a queued write --
    def read(self, type_: str, id_: str) -> StoredRecord | None:
        queued = self._queued.get((type_, id_))
        return queued if queued is not None else self.session.read(type_, id_)

    def vread(self, type_: str, id_: str, version: int) -> StoredRecord | None:
        if (type_, id_) in self._entries:
            self.flush()  # earlier versions may be queued too
        return self.session.vread(type_, id_, version)

    def read_many(self, keys: Iterable[Key]) -> dict[Key, StoredRecord]:
        keys = list(keys)
        found = self.session.read_many([k for k in keys if k not in self._queued])
        for key in keys:
            queued = self._queued.get(key)
            if queued is not None and not queued.deleted:  # read_many skips tombstones
                found[key] = queued
        return found

    def search(self, query: SearchQuery) -> SearchPage:
        self.flush()
        return self.session.search(query)

    def count(self, types: Sequence[str], where: Predicate | None) -> int:
        self.flush()
        return self.session.count(types, where)

    def match_keys(
        self, types: Sequence[str], where: Predicate | None, limit: int | None = None
    ) -> list[Key]:
        self.flush()
        return self.session.match_keys(types, where, limit)

    def referenced_keys(
        self, types: Sequence[str], where: Predicate | None, param: str
    ) -> list[Key]:
        self.flush()
        return self.session.referenced_keys(types, where, param)

    def history(self, query: HistoryQuery) -> HistoryPage:
        self.flush()
        return self.session.history(query)
