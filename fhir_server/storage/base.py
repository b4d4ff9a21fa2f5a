"""The storage port: the only thing the layers above know about storage.

A `Store` hands out sessions. A write session is one atomic unit of work: SQLite runs it
in `BEGIN IMMEDIATE` (writers serialised across processes), MongoDB in a session
transaction on a replica set. Everything read inside a write session is consistent
with what it writes, which is what makes conditional create race-free.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from fhir_server.errors import FhirError
from fhir_server.storage.query import Predicate, SearchPage, SearchQuery
from fhir_server.storage.records import ResourceIndex, StoredRecord, Write
from fhir_server.storage.terminology_base import TerminologyStore


class VersionConflict(Exception):
    """The current version is not the one the writer read (optimistic concurrency)."""

    def __init__(self, type_: str, id_: str, expected: int | None, actual: int | None) -> None:
        super().__init__(f"{type_}/{id_}: expected version {expected}, found {actual}")
        self.type = type_
        self.id = id_
        self.expected = expected
        self.actual = actual


class StoreUnavailable(Exception):
    """The store cannot be reached or opened."""


class TransactionConflict(FhirError):
    """The server aborted this unit of work for a concurrent one: safe to run it again."""

    retryable = True

    def __init__(self, what: str) -> None:
        super().__init__(
            409,
            "conflict",
            f"{what} conflicted with a concurrent change; retry the request",
            headers={"Retry-After": "1"},
        )


@dataclass(frozen=True, slots=True)
class HistoryQuery:
    type: str | None = None  # None = system level
    id: str | None = None  # set = instance level
    since: datetime | None = None  # versions with last_updated >= since
    at: tuple[datetime, datetime] | None = None  # versions current at some instant in [a, b)
    count: int = 20
    cursor: str | None = None


@dataclass(slots=True)
class HistoryPage:
    records: list[StoredRecord] = field(default_factory=list)  # newest first
    next_cursor: str | None = None
    total: int | None = None


@dataclass(frozen=True, slots=True)
class IndexUpdate:
    """A freshly extracted index for version `version` of `type/id`."""

    type: str
    id: str
    version: int
    index: ResourceIndex


@dataclass(frozen=True, slots=True)
class ExportSelection:
    """Current resources of one type to stream for a bulk export.

    `where` holds search criteria (`_since`, `_typeFilter`, a Group's compartments);
    `in_any_compartment` keeps only resources in some Patient's compartment (Patient-level
    export), which no search predicate can say without listing every Patient id.
    """

    type: str
    where: Predicate | None = None
    in_any_compartment: bool = False


@dataclass
class CommitHooks:
    """Work that joins a write session's unit of work, around its commit.

    `before` runs inside the session, after the caller's last write and before the
    commit, only when the session wrote something: what it writes commits (or rolls
    back) with the caller's writes. `after` runs once the commit has succeeded. The
    audit trail uses them to record a write's AuditEvent in the write's own transaction.
    """

    before: list[Callable[[StoreSession], None]] = field(default_factory=list)
    after: list[Callable[[], None]] = field(default_factory=list)

    def run_before(self, session: StoreSession) -> None:
        for hook in self.before:
            hook(session)

    def run_after(self) -> None:
        for hook in self.after:
            hook()


class StoreSession(Protocol):
    def read(self, type_: str, id_: str) -> StoredRecord | None:
        """Current version, tombstones included (deleted=True)."""

    def vread(self, type_: str, id_: str, version: int) -> StoredRecord | None: ...

    def read_many(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], StoredRecord]:
        """Current, non-deleted versions of the given (type, id) keys that exist."""

    def search(self, query: SearchQuery) -> SearchPage: ...

    def count(self, types: Sequence[str], where: Predicate | None) -> int: ...

    def match_keys(
        self, types: Sequence[str], where: Predicate | None, limit: int | None = None
    ) -> list[tuple[str, str]]:
        """(type, id) of matching current resources: feeds chains, _has, conditionals."""

    def referenced_keys(
        self, types: Sequence[str], where: Predicate | None, param: str | None
    ) -> list[tuple[str, str]]:
        """(type, id) targets of `param` (None: any) references held by the matches (_has)."""

    def history(self, query: HistoryQuery) -> HistoryPage: ...

    def write(self, writes: Sequence[Write]) -> None:
        """Persist new versions (and their index); raise VersionConflict on a stale read.

        Only valid in a write session; nothing is visible to others until it commits.
        """

    def replace_index(self, entries: Sequence[IndexUpdate]) -> int:
        """Replace the index of current versions in place, without a new version ($reindex).

        An entry whose version is no longer current (or was deleted) is skipped: its newer
        version was indexed when it was written. Returns how many were replaced.
        """

    def lock(self, key: str) -> None:
        """Serialise concurrent write sessions that use the same key (conditional create)."""

    def change_marker(self) -> object | None:
        """A value that changes whenever another session commits, or None if unknown.

        Lets work prepared in a read session be trusted in a later write session on the
        same connection when nothing was committed in between (transaction `speculate`).
        """


class Store(Protocol):
    kind: str  # "sqlite" | "mongodb" | "mongomock"
    transactional: bool  # True when write sessions are really atomic
    commit_hooks: CommitHooks  # run around the commit of write sessions that wrote

    def session(self, write: bool = False) -> AbstractContextManager[StoreSession]: ...

    def iter_current(self, type_: str | None = None) -> Iterator[StoredRecord]:
        """Every current non-deleted record (reindex, export), streamed."""

    def iter_export(self, selections: Sequence[ExportSelection]) -> Iterator[StoredRecord]:
        """The current records of each selection in turn, streamed with flat memory.

        SQLite reads every selection in one read transaction (one snapshot: a resource
        updated meanwhile appears once, as it was); MongoDB walks each type by `rid`,
        which an update never changes, so a resource also appears at most once.
        """

    def close(self) -> None: ...


class TerminologyStoreHolder(Protocol):
    """A store that also holds a concept store for big code systems (both adapters do)."""

    terminology: TerminologyStore
