"""Helpers for the storage contract: versions written through the port, hand-made indexes.

Index values are built by hand so the contract tests only the adapters, not the
search-parameter extractor.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import orjson

from fhir_server.storage.base import Store
from fhir_server.storage.query import Predicate, SearchPage, SearchQuery, SortKey
from fhir_server.storage.records import ResourceIndex, StoredRecord, Write

T0 = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)


def moment(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def body(type_: str, id_: str, version: int, **content: object) -> bytes:
    return orjson.dumps(
        {"resourceType": type_, "id": id_, "meta": {"versionId": str(version)}, **content}
    )


def record(
    type_: str,
    id_: str,
    version: int,
    when: datetime,
    *,
    deleted: bool = False,
    method: str | None = None,
    **content: object,
) -> StoredRecord:
    return StoredRecord(
        type=type_,
        id=id_,
        version=version,
        last_updated=when,
        deleted=deleted,
        body=b"" if deleted else body(type_, id_, version, **content),
        method=method or ("DELETE" if deleted else "POST" if version == 1 else "PUT"),
    )


class Clock:
    """Hands out strictly increasing instants, one second apart, from T0."""

    def __init__(self) -> None:
        self.ticks = 0

    def __call__(self) -> datetime:
        self.ticks += 1
        return moment(self.ticks)


class Writer:
    """Writes versions the way the interaction layer does: read, then expect that version."""

    def __init__(self, store: Store, clock: Clock | None = None) -> None:
        self.store = store
        self.clock = clock or Clock()

    def put(
        self, type_: str, id_: str, index: ResourceIndex | None = None, **content: object
    ) -> StoredRecord:
        with self.store.session(write=True) as session:
            current = session.read(type_, id_)
            version = current.version + 1 if current else 1
            new = record(type_, id_, version, self.clock(), **content)
            session.write([Write(new, index or ResourceIndex(), current.version if current else 0)])
        return new

    def delete(self, type_: str, id_: str) -> StoredRecord:
        with self.store.session(write=True) as session:
            current = session.read(type_, id_)
            assert current is not None
            tombstone = record(type_, id_, current.version + 1, self.clock(), deleted=True)
            session.write([Write(tombstone, None, current.version)])
        return tombstone


def search(
    store: Store,
    where: Predicate | None = None,
    types: Sequence[str] = ("Observation",),
    sort: Sequence[SortKey] = (),
    count: int = 100,
    cursor: str | None = None,
    total: str = "none",
) -> SearchPage:
    query = SearchQuery(
        types=tuple(types),
        where=where,
        sort=tuple(sort),
        count=count,
        cursor=cursor,
        total=total,  # type: ignore[arg-type]
    )
    with store.session() as session:
        return session.search(query)


def ids(page: SearchPage) -> list[str]:
    return [r.id for r in page.records]


def all_pages(
    store: Store,
    where: Predicate | None = None,
    types: Sequence[str] = ("Observation",),
    sort: Sequence[SortKey] = (),
    count: int = 2,
) -> list[str]:
    """Every id, following next cursors page by page."""
    seen: list[str] = []
    cursor: str | None = None
    for _ in range(1000):
        page = search(store, where, types, sort, count, cursor)
        seen += ids(page)
        cursor = page.next_cursor
        if cursor is None:
            return seen
    raise AssertionError("paging did not end")


def asc(param: str) -> SortKey:
    return SortKey(param)


def desc(param: str) -> SortKey:
    return SortKey(param, descending=True)
