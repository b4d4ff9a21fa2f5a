"""SQLite adapter: one WAL-mode file, durable, safe with several worker processes.

Write sessions run in `BEGIN IMMEDIATE`, which takes SQLite's single writer lock up
front, so a read-check-write sequence inside one session is atomic. Before that, a
writer waits its turn on a lock of its own (`WriterTurn`): a thread lock, then an
advisory lock on `<database>.writer-lock` across processes. Both wake the next writer
the moment the last one commits, where SQLite's `busy_timeout` sleeps and retries
(up to 100 ms a nap): with two processes loading Bundles, the sleeping left a core idle
about a third of the time. `busy_timeout` still covers writers that do not take the
turn (another program on the same file).
"""

from __future__ import annotations

import os
import sqlite3
import sys
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, nullcontext, suppress
from dataclasses import replace
from pathlib import Path
from typing import Any

import orjson

try:
    import fcntl
except ImportError:  # Windows: writers queue on SQLite's busy_timeout alone
    fcntl = None  # type: ignore[assignment]

from fhir_server.errors import FhirError
from fhir_server.instants import from_micros, to_micros
from fhir_server.storage import sqlite_reindex, sqlite_search
from fhir_server.storage.base import (
    CommitHooks,
    ExportSelection,
    HistoryPage,
    HistoryQuery,
    IndexUpdate,
    StoreUnavailable,
    VersionConflict,
)
from fhir_server.storage.cursor import decode_cursor, encode_cursor
from fhir_server.storage.query import Predicate, SearchPage, SearchQuery
from fhir_server.storage.records import ResourceIndex, StoredRecord, Write
from fhir_server.storage.sqlite_schema import (
    DDL,
    INDEX_TABLES,
    SCHEMA_VERSION,
    UNSTORED_PARAMS,
    migrate_sort_keys,
)
from fhir_server.storage.terminology_sqlite import SQLiteTerminologyStore

_INF = float("inf")
# A version's body is stored once: in `resources` while it is current (its history row
# holds an empty body), in `history` once a later version replaced it. Bulk loads write
# each resource's JSON once instead of twice. Tombstones have empty bodies in both.
_HISTORY_BODY = (
    "CASE WHEN h.deleted = 0 AND length(h.body) = 0"
    " THEN (SELECT r.body FROM resources r WHERE r.type = h.type AND r.id = h.id)"
    " ELSE h.body END"
)
_RECORD_COLUMNS = "r.type, r.id, r.version, r.last_updated, r.deleted, r.body"
_CHUNK = 400  # keeps bound parameters well under SQLite's limit
WAL_CHECKPOINT_PAGES = 10_000
# 8 KiB pages (SQLite's default is 4 KiB): a commit writes every page it changed to the
# WAL, one write call each, and a Bundle's index rows land all over the value indexes;
# with pages twice as big a bulk load made 43 % fewer write calls and ran ≈ 8 % faster
# (one process), ≈ 10 % with two processes taking turns (benchmarks/ingest.py).
PAGE_SIZE = 8192


class WriterTurn:
    """One writer at a time, across this process's threads and the processes on one file.

    Blocking waits on both locks: the kernel and the thread lock wake a waiter as soon
    as the holder is done, and a holder that dies releases its advisory lock with it.
    """

    def __init__(self, lock_path: str | None) -> None:
        self._thread_lock = threading.Lock()
        self._fd: int | None = None
        if lock_path is not None and fcntl is not None:
            self._fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)

    def __enter__(self) -> None:
        self._thread_lock.acquire()
        if self._fd is not None:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX)
            except BaseException:
                self._thread_lock.release()
                raise

    def __exit__(self, *_: object) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        self._thread_lock.release()

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def _record(row: Sequence[Any], method: str = "PUT") -> StoredRecord:
    return StoredRecord(
        type=row[0],
        id=row[1],
        version=row[2],
        last_updated=from_micros(row[3]),
        deleted=bool(row[4]),
        body=bytes(row[5]),
        method=method,
    )


class SQLiteStore:
    kind = "sqlite"
    transactional = True

    def __init__(self, path: str, busy_timeout_ms: int = 30_000, synchronous: str = "FULL") -> None:
        self.path = path
        self.busy_timeout_ms = busy_timeout_ms
        self.synchronous = synchronous
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._all_lock = threading.Lock()
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._create_schema()
        self.commit_hooks = CommitHooks()
        self._writer_turn = WriterTurn(None if path == ":memory:" else f"{path}.writer-lock")
        # big code systems (LOINC, SNOMED CT): concept tables in the same file
        self.terminology = SQLiteTerminologyStore(self._conn)

    @classmethod
    def from_url(cls, url: str, busy_timeout_ms: int = 30_000) -> SQLiteStore:
        # sqlite:///relative/path.db  or  sqlite:////absolute/path.db
        if not url.startswith("sqlite:///"):
            raise ValueError(f"SQLite URL must look like sqlite:///path/to/file.db, got {url!r}")
        return cls(url[len("sqlite:///") :], busy_timeout_ms=busy_timeout_ms)

    # -- connections -------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(
                self.path, isolation_level=None, check_same_thread=False, timeout=0
            )
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"cannot open SQLite database {self.path}: {exc}") from exc
        conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout_ms)}")
        # a new file only (an existing one keeps its page size): see PAGE_SIZE
        conn.execute(f"PRAGMA page_size = {PAGE_SIZE}")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute(f"PRAGMA synchronous = {self.synchronous}")
        conn.execute("PRAGMA cache_size = -65536")
        conn.execute("PRAGMA temp_store = MEMORY")
        conn.execute("PRAGMA mmap_size = 268435456")
        # checkpoint every ~80 MB of WAL instead of 8 MB: a page changed by many commits
        # (index pages, during bulk loads) is copied back once per checkpoint, not per 8 MB
        conn.execute(f"PRAGMA wal_autocheckpoint = {WAL_CHECKPOINT_PAGES}")
        with self._all_lock:
            self._all.append(conn)
        return conn

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            self._local.conn = conn
        return conn

    def _create_schema(self) -> None:
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in DDL.split(";"):
                if statement.strip():
                    conn.execute(statement)
            migrate_sort_keys(conn)
            conn.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)",
                (str(SCHEMA_VERSION),),
            )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    @contextmanager
    def session(self, write: bool = False) -> Iterator[SQLiteSession]:
        conn = self._conn()
        if conn.in_transaction:
            # nested use in the same thread joins the outer unit of work
            yield SQLiteSession(conn, write)
            return
        with self._writer_turn if write else nullcontext():
            conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            session = SQLiteSession(conn, write)
            try:
                yield session
                if session.wrote:
                    self.commit_hooks.run_before(session)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        if session.wrote:
            self.commit_hooks.run_after()

    def iter_current(self, type_: str | None = None) -> Iterator[StoredRecord]:
        # a dedicated connection: a long stream must not hold a pooled thread connection
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        try:
            conn.execute("BEGIN")
            sql = f"SELECT {_RECORD_COLUMNS} FROM resources r WHERE r.deleted = 0"
            args: tuple[Any, ...] = ()
            if type_ is not None:
                sql += " AND r.type = ?"
                args = (type_,)
            for row in conn.execute(sql + " ORDER BY r.rid", args):
                yield _record(row)
            conn.execute("COMMIT")
        finally:
            conn.close()

    def iter_export(self, selections: Sequence[ExportSelection]) -> Iterator[StoredRecord]:
        # one dedicated connection and one read transaction: a consistent snapshot. No
        # mmap: reads through SQLite's small page cache keep the resident set flat.
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        try:
            conn.execute("BEGIN")
            for selection in selections:
                sql, args = _export_sql(conn, selection)
                for row in conn.execute(sql, args):
                    yield _record(row)
            conn.execute("COMMIT")
        finally:
            conn.close()

    def close(self) -> None:
        with self._all_lock:
            for conn in self._all:
                with suppress(sqlite3.Error):
                    conn.close()
            self._all.clear()
        self._writer_turn.close()
        self._local = threading.local()


class SQLiteSession:
    def __init__(self, conn: sqlite3.Connection, write: bool) -> None:
        self.conn = conn
        self.writable = write
        self.wrote = False  # commit hooks run only for sessions that changed something

    # -- reads -----------------------------------------------------------------------
    def read(self, type_: str, id_: str) -> StoredRecord | None:
        row = self.conn.execute(
            f"SELECT {_RECORD_COLUMNS} FROM resources r WHERE r.type = ? AND r.id = ?",
            (type_, id_),
        ).fetchone()
        return _record(row) if row else None

    def vread(self, type_: str, id_: str, version: int) -> StoredRecord | None:
        row = self.conn.execute(
            f"SELECT type, id, version, last_updated, deleted, {_HISTORY_BODY}, method"
            " FROM history h WHERE type = ? AND id = ? AND version = ?",
            (type_, id_, version),
        ).fetchone()
        return _record(row[:6], row[6]) if row else None

    def read_many(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], StoredRecord]:
        rows = _rows_by_key(self.conn, _RECORD_COLUMNS, list(dict.fromkeys(keys)), "r.deleted = 0")
        return {(row[0], row[1]): _record(row) for row in rows}

    # search reads: the planner and SQL live in sqlite_search / sqlite_query
    def count(self, types: Sequence[str], where: Predicate | None) -> int:
        return sqlite_search.count(self.conn, types, where)

    def match_keys(
        self, types: Sequence[str], where: Predicate | None, limit: int | None = None
    ) -> list[tuple[str, str]]:
        return sqlite_search.match_keys(self.conn, types, where, limit)

    def referenced_keys(
        self, types: Sequence[str], where: Predicate | None, param: str | None
    ) -> list[tuple[str, str]]:
        return sqlite_search.referenced_keys(self.conn, types, where, param)

    def search(self, query: SearchQuery) -> SearchPage:
        return sqlite_search.search(self.conn, query)

    def history(self, query: HistoryQuery) -> HistoryPage:
        clauses: list[str] = []
        args: list[Any] = []
        if query.type is not None:
            clauses.append("type = ?")
            args.append(query.type)
        if query.id is not None:
            clauses.append("id = ?")
            args.append(query.id)
        if query.since is not None:
            clauses.append("last_updated >= ?")
            args.append(to_micros(query.since))
        if query.at is not None:
            start, end = (to_micros(t) for t in query.at)
            clauses.append("last_updated < ? AND (ended IS NULL OR ended > ?)")
            args += [end, start]
        base = " AND ".join(clauses) or "1"
        where = base
        page_args = list(args)
        if query.cursor:
            position = decode_cursor(query.cursor)
            if len(position) != 2:
                raise FhirError(400, "invalid", "The paging cursor is not valid", ["_cursor"])
            where += " AND (last_updated < ? OR (last_updated = ? AND seq < ?))"
            page_args += [position[0], position[0], position[1]]
        rows = self.conn.execute(
            f"SELECT type, id, version, last_updated, deleted, {_HISTORY_BODY}, method, seq"
            f" FROM history h WHERE {where} ORDER BY last_updated DESC, seq DESC LIMIT ?",
            [*page_args, query.count + 1],
        ).fetchall()
        page = HistoryPage(records=[_record(row[:6], row[6]) for row in rows[: query.count]])
        if len(rows) > query.count and query.count > 0:
            last = rows[query.count - 1]
            page.next_cursor = encode_cursor([last[3], last[7]])
        if query.id is not None:
            page.total = self.conn.execute(
                f"SELECT count(*) FROM history WHERE {base}", args
            ).fetchone()[0]
        return page

    # -- writes ------------------------------------------------------------------------
    def lock(self, key: str) -> None:
        # BEGIN IMMEDIATE already holds the database's only writer lock
        return None

    def change_marker(self) -> object | None:
        # changes when another connection commits; the thread's connection is the same
        # for its read and write sessions
        return self.conn.execute("PRAGMA data_version").fetchone()[0]

    def write(self, writes: Sequence[Write]) -> None:
        if not self.writable:
            raise RuntimeError("write() needs a write session")
        self.wrote = True
        # A key written twice must see its own first write: such a call runs in segments.
        segment: list[Write] = []
        keys: set[tuple[str, str]] = set()
        for w in writes:
            key = (w.record.type, w.record.id)
            if key in keys:
                self._write_segment(segment)
                segment, keys = [], set()
            segment.append(w)
            keys.add(key)
        if segment:
            self._write_segment(segment)

    def _current_versions(
        self, keys: Sequence[tuple[str, str]]
    ) -> dict[tuple[str, str], tuple[int, int]]:
        """(rid, version) of the stored current versions among `keys`, tombstones included."""
        rows = _rows_by_key(self.conn, "r.type, r.id, r.rid, r.version", keys)
        return {(row[0], row[1]): (row[2], row[3]) for row in rows}

    def _write_segment(self, writes: Sequence[Write]) -> None:
        """Distinct keys: one look-up of the current versions, then one executemany per table."""
        conn = self.conn
        keys = [(w.record.type, w.record.id) for w in writes]
        current = self._current_versions(keys)
        for w, key in zip(writes, keys, strict=True):
            actual = current[key][1] if key in current else 0
            if w.expected_version is not None and w.expected_version != actual:
                raise VersionConflict(key[0], key[1], w.expected_version, actual)
        # BEGIN IMMEDIATE holds the only writer lock, so the next rowids are ours to hand out
        next_rid = conn.execute("SELECT coalesce(max(rid), 0) + 1 FROM resources").fetchone()[0]
        inserts: list[tuple[Any, ...]] = []
        updates: list[tuple[Any, ...]] = []
        closed: list[tuple[Any, ...]] = []
        history: list[tuple[Any, ...]] = []
        stale_rids: list[int] = []
        index_rows: dict[str, list[tuple[Any, ...]]] = {t: [] for t in INDEX_TABLES}
        for w, key in zip(writes, keys, strict=True):
            rec = w.record
            micros = to_micros(rec.last_updated)
            deleted = int(rec.deleted)
            live = w.index is not None and not rec.deleted
            sort_keys = sort_keys_json(w.index) if live else None  # type: ignore[arg-type]
            if key in current:
                rid, previous = current[key]
                updates.append((rec.version, micros, deleted, rec.body, sort_keys, rid))
                closed.append((micros, rid, rec.type, rec.id, previous))
                stale_rids.append(rid)
            else:
                rid, next_rid = next_rid, next_rid + 1
                inserts.append(
                    (rid, rec.type, rec.id, rec.version, micros, deleted, rec.body, sort_keys)
                )
            # the current version's body is kept once, in `resources` (see _HISTORY_BODY)
            history.append((rec.type, rec.id, rec.version, micros, deleted, rec.method, b""))
            if live:
                _collect_index_rows(index_rows, rid, rec.type, w.index)  # type: ignore[arg-type]
        # a replaced version takes its body into history before `resources` is overwritten
        conn.executemany(
            "UPDATE history SET ended = ?, body = CASE WHEN deleted = 0 AND length(body) = 0"
            " THEN (SELECT body FROM resources WHERE rid = ?) ELSE body END"
            " WHERE type = ? AND id = ? AND version = ?",
            closed,
        )
        conn.executemany(
            "INSERT INTO resources"
            " (rid, type, id, version, last_updated, deleted, body, sort_keys)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            inserts,
        )
        conn.executemany(
            "UPDATE resources SET version = ?, last_updated = ?, deleted = ?, body = ?,"
            " sort_keys = ? WHERE rid = ?",
            updates,
        )
        conn.executemany(
            "INSERT INTO history (type, id, version, last_updated, deleted, method, body)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            history,
        )
        replace_index_rows(conn, stale_rids, index_rows)

    def replace_index(self, entries: Sequence[IndexUpdate]) -> int:
        if not self.writable:
            raise RuntimeError("replace_index() needs a write session")
        return sqlite_reindex.replace_index(self.conn, entries)


def _export_sql(conn: sqlite3.Connection, selection: ExportSelection) -> tuple[str, list[Any]]:
    """One export selection's records in rid order, planned like a search's pages."""
    p = sqlite_search.plan(conn, (selection.type,), selection.where, keyset=True)
    where = p.where
    if selection.in_any_compartment:
        where += " AND EXISTS (SELECT 1 FROM compartment c WHERE c.rid = r.rid)"
    group = f" GROUP BY {p.rid}" if p.grouped else ""
    return f"SELECT {_RECORD_COLUMNS} FROM {p.source} WHERE {where}{group} ORDER BY {p.rid}", p.args


def _rows_by_key(
    conn: sqlite3.Connection, columns: str, keys: Sequence[tuple[str, str]], where: str = "1"
) -> Iterator[Sequence[Any]]:
    """Rows of `resources r` for many (type, id) keys, a few hundred per statement."""
    for start in range(0, len(keys), _CHUNK):
        chunk = keys[start : start + _CHUNK]
        values = ", ".join("(?, ?)" for _ in chunk)
        # a join (not `IN (VALUES ...)`, which scans the table) probes the (type, id) index
        yield from conn.execute(
            f"SELECT {columns} FROM (VALUES {values}) k CROSS JOIN resources r"
            f" ON r.type = k.column1 AND r.id = k.column2 WHERE {where}",
            [part for key in chunk for part in key],
        )


def replace_index_rows(
    conn: sqlite3.Connection, rids: list[int], index_rows: dict[str, list[tuple[Any, ...]]]
) -> None:
    """Drop the index rows of `rids`, then insert `index_rows` (one executemany per table)."""
    for start in range(0, len(rids), _CHUNK):
        chunk = rids[start : start + _CHUNK]
        marks = ", ".join("?" for _ in chunk)
        for table in INDEX_TABLES:
            conn.execute(f"DELETE FROM {table} WHERE rid IN ({marks})", chunk)
    for table, rows in index_rows.items():
        if rows:
            marks = ", ".join("?" for _ in rows[0])
            conn.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)


_LOWEST = -sys.float_info.max  # JSON has no -Infinity: an open-ended start sorts first


def sort_keys_json(index: ResourceIndex) -> str | None:
    """`resources.sort_keys`: each parameter's first sort key, as a JSON object."""
    keys: dict[str, Any] = {}
    for s in index.sorts:
        if s.param not in keys:  # one key per parameter
            keys[s.param] = _LOWEST if s.key == -_INF else s.key
    return orjson.dumps(keys).decode() if keys else None


def _collect_index_rows(
    rows: dict[str, list[tuple[Any, ...]]], rid: int, type_: str, index: ResourceIndex
) -> None:
    unstored = UNSTORED_PARAMS.get(type_)
    if unstored:  # (see UNION_PARAMS)
        index = replace(
            index,
            tokens=[t for t in index.tokens if t.param not in unstored],
            quantities=[x for x in index.quantities if x.param not in unstored],
            composites=[c for c in index.composites if c.param not in unstored],
        )
    rows["idx_token"] += [(rid, type_, t.param, t.system, t.code, t.text) for t in index.tokens]
    rows["idx_string"] += [(rid, type_, s.param, s.value, s.exact) for s in index.strings]
    rows["idx_range"] += [
        (rid, type_, r.param, -_INF if r.low is None else r.low, _INF if r.high is None else r.high)
        for r in index.ranges
    ]
    rows["idx_quantity"] += [
        (rid, type_, x.param, x.system, x.code, x.unit, x.low, x.high) for x in index.quantities
    ]
    rows["idx_reference"] += [
        (rid, type_, x.param, x.target_type, x.target_id, x.url) for x in index.references
    ]
    rows["idx_uri"] += [(rid, type_, u.param, u.value) for u in index.uris]
    rows["idx_composite"] += [
        (rid, type_, c.param, "$".join(c.keys), c.low, c.high) for c in index.composites
    ]
    rows["compartment"] += [(rid, pid) for pid in dict.fromkeys(index.compartments)]
