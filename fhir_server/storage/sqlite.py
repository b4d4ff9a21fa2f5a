"""SQLite adapter: one WAL-mode file, durable, safe with several worker processes.

Write sessions run in `BEGIN IMMEDIATE`, which takes SQLite's single writer lock up
front: concurrent writers (threads or processes) queue on `busy_timeout` instead of
failing half-way, and a read-check-write sequence inside one session is atomic.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from fhir_server.errors import FhirError
from fhir_server.instants import from_micros, to_micros
from fhir_server.storage.base import HistoryPage, HistoryQuery, StoreUnavailable, VersionConflict
from fhir_server.storage.cursor import decode_cursor, encode_cursor
from fhir_server.storage.query import Predicate, SearchPage, SearchQuery
from fhir_server.storage.records import ResourceIndex, StoredRecord, Write
from fhir_server.storage.sqlite_query import SqlBuilder
from fhir_server.storage.sqlite_schema import DDL, INDEX_TABLES, SCHEMA_VERSION

_INF = float("inf")
_RECORD_COLUMNS = "r.type, r.id, r.version, r.last_updated, r.deleted, r.body"
_CHUNK = 400  # keeps bound parameters well under SQLite's limit


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
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute(f"PRAGMA synchronous = {self.synchronous}")
        conn.execute("PRAGMA cache_size = -65536")
        conn.execute("PRAGMA temp_store = MEMORY")
        conn.execute("PRAGMA mmap_size = 268435456")
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
            conn.execute(
                "INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', ?)",
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
        conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        try:
            yield SQLiteSession(conn, write)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

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

    def close(self) -> None:
        with self._all_lock:
            for conn in self._all:
                with suppress(sqlite3.Error):
                    conn.close()
            self._all.clear()
        self._local = threading.local()


class SQLiteSession:
    def __init__(self, conn: sqlite3.Connection, write: bool) -> None:
        self.conn = conn
        self.writable = write

    # -- reads -----------------------------------------------------------------------
    def read(self, type_: str, id_: str) -> StoredRecord | None:
        row = self.conn.execute(
            f"SELECT {_RECORD_COLUMNS} FROM resources r WHERE r.type = ? AND r.id = ?",
            (type_, id_),
        ).fetchone()
        return _record(row) if row else None

    def vread(self, type_: str, id_: str, version: int) -> StoredRecord | None:
        row = self.conn.execute(
            "SELECT type, id, version, last_updated, deleted, body, method FROM history"
            " WHERE type = ? AND id = ? AND version = ?",
            (type_, id_, version),
        ).fetchone()
        return _record(row[:6], row[6]) if row else None

    def read_many(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], StoredRecord]:
        found: dict[tuple[str, str], StoredRecord] = {}
        unique = list(dict.fromkeys(keys))
        for start in range(0, len(unique), _CHUNK):
            chunk = unique[start : start + _CHUNK]
            values = ", ".join("(?, ?)" for _ in chunk)
            args = [part for key in chunk for part in key]
            rows = self.conn.execute(
                f"SELECT {_RECORD_COLUMNS} FROM resources r"
                f" WHERE r.deleted = 0 AND (r.type, r.id) IN (VALUES {values})",
                args,
            )
            for row in rows:
                found[(row[0], row[1])] = _record(row)
        return found

    def _filtered(self, types: Sequence[str], where: Predicate | None) -> tuple[str, list[Any]]:
        builder = SqlBuilder(types)
        clauses = ["r.deleted = 0"]
        if len(types) == 1:
            clauses.append(f"r.type = {builder.arg(types[0])}")
        elif types:
            clauses.append(f"r.type IN ({', '.join(builder.arg(t) for t in types)})")
        clauses.append(builder.where(where))
        return " AND ".join(clauses), builder.args

    def count(self, types: Sequence[str], where: Predicate | None) -> int:
        sql, args = self._filtered(types, where)
        return self.conn.execute(f"SELECT count(*) FROM resources r WHERE {sql}", args).fetchone()[
            0
        ]

    def match_keys(
        self, types: Sequence[str], where: Predicate | None, limit: int | None = None
    ) -> list[tuple[str, str]]:
        sql, args = self._filtered(types, where)
        statement = f"SELECT r.type, r.id FROM resources r WHERE {sql} ORDER BY r.rid"
        if limit is not None:
            statement += f" LIMIT {int(limit)}"
        return [(row[0], row[1]) for row in self.conn.execute(statement, args)]

    def referenced_keys(
        self, types: Sequence[str], where: Predicate | None, param: str
    ) -> list[tuple[str, str]]:
        sql, args = self._filtered(types, where)
        rows = self.conn.execute(
            "SELECT DISTINCT x.target_type, x.target_id FROM idx_reference x"
            f" WHERE x.param = ? AND x.target_id IS NOT NULL AND x.rid IN"
            f" (SELECT r.rid FROM resources r WHERE {sql})",
            [param, *args],
        )
        return [(row[0], row[1]) for row in rows if row[0] is not None]

    def search(self, query: SearchQuery) -> SearchPage:
        filter_sql, args = self._filtered(query.types, query.where)
        key_columns: list[str] = []
        order: list[str] = []
        key_args: list[Any] = []
        for i, key in enumerate(query.sort):
            if key.param == "_id":
                expr = "r.id"
            elif key.param == "_lastUpdated":
                expr = "r.last_updated"
            else:
                expr = "(SELECT s.key FROM idx_sort s WHERE s.rid = r.rid AND s.param = ?)"
                key_args += [key.param, key.param]  # the expression appears twice below
            key_columns.append(f"({expr}) IS NULL AS n{i}, {expr} AS k{i}")
            # both directions put resources without a value last
            order.append(f"n{i} ASC, k{i} {'DESC' if key.descending else 'ASC'}")
        order.append("rid ASC")
        columns = ", ".join([_RECORD_COLUMNS, "r.rid AS rid", *key_columns])
        inner = f"SELECT {columns} FROM resources r WHERE {filter_sql}"
        # key expressions' args precede the WHERE args in the text
        inner_args = key_args + args

        outer_where = "1"
        outer_args: list[Any] = []
        if query.cursor:
            position = decode_cursor(query.cursor)
            outer_where, outer_args = _after_position(query, position)
        limit = max(query.count, 0) + 1
        sql = (
            f"SELECT * FROM ({inner}) WHERE {outer_where} ORDER BY {', '.join(order)} LIMIT {limit}"
        )
        rows = self.conn.execute(sql, inner_args + outer_args).fetchall()
        page = SearchPage(records=[_record(row) for row in rows[: query.count]])
        if len(rows) > query.count and query.count > 0:
            last = rows[query.count - 1]
            position: list[Any] = []
            for i in range(len(query.sort)):
                position += [last[7 + 2 * i], last[8 + 2 * i]]
            position.append(last[6])
            page.next_cursor = encode_cursor(position)
        if query.total != "none":
            page.total = self.count(query.types, query.where)
        return page

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
            "SELECT type, id, version, last_updated, deleted, body, method, seq FROM history"
            f" WHERE {where} ORDER BY last_updated DESC, seq DESC LIMIT ?",
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

    def write(self, writes: Sequence[Write]) -> None:
        if not self.writable:
            raise RuntimeError("write() needs a write session")
        conn = self.conn
        index_rows: dict[str, list[tuple[Any, ...]]] = {t: [] for t in INDEX_TABLES}
        stale_rids: list[int] = []
        for w in writes:
            rec = w.record
            micros = to_micros(rec.last_updated)
            current = conn.execute(
                "SELECT rid, version FROM resources WHERE type = ? AND id = ?", (rec.type, rec.id)
            ).fetchone()
            actual = current[1] if current else 0
            if w.expected_version is not None and w.expected_version != actual:
                raise VersionConflict(rec.type, rec.id, w.expected_version, actual)
            if current is None:
                rid = conn.execute(
                    "INSERT INTO resources (type, id, version, last_updated, deleted, body)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    (rec.type, rec.id, rec.version, micros, int(rec.deleted), rec.body),
                ).lastrowid
            else:
                rid = current[0]
                conn.execute(
                    "UPDATE resources SET version = ?, last_updated = ?, deleted = ?, body = ?"
                    " WHERE rid = ?",
                    (rec.version, micros, int(rec.deleted), rec.body, rid),
                )
                conn.execute(
                    "UPDATE history SET ended = ? WHERE type = ? AND id = ? AND version = ?",
                    (micros, rec.type, rec.id, current[1]),
                )
                stale_rids.append(rid)
            conn.execute(
                "INSERT INTO history (type, id, version, last_updated, deleted, method, body)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (rec.type, rec.id, rec.version, micros, int(rec.deleted), rec.method, rec.body),
            )
            if w.index is not None and not rec.deleted:
                _collect_index_rows(index_rows, rid, rec.type, w.index)
        for start in range(0, len(stale_rids), _CHUNK):
            chunk = stale_rids[start : start + _CHUNK]
            marks = ", ".join("?" for _ in chunk)
            for table in INDEX_TABLES:
                conn.execute(f"DELETE FROM {table} WHERE rid IN ({marks})", chunk)
        for table, rows in index_rows.items():
            if rows:
                marks = ", ".join("?" for _ in rows[0])
                conn.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)


def _collect_index_rows(
    rows: dict[str, list[tuple[Any, ...]]], rid: int, type_: str, index: ResourceIndex
) -> None:
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
    seen_sort: set[str] = set()
    for s in index.sorts:
        if s.param not in seen_sort:  # one key per parameter
            seen_sort.add(s.param)
            rows["idx_sort"].append((rid, type_, s.param, s.key))
    rows["compartment"] += [(rid, pid) for pid in dict.fromkeys(index.compartments)]


def _after_position(query: SearchQuery, position: list[Any]) -> tuple[str, list[Any]]:
    """Keyset condition: rows strictly after `position` in the page order."""
    if len(position) != 2 * len(query.sort) + 1:
        raise FhirError(400, "invalid", "The paging cursor does not match this search", ["_cursor"])
    alternatives: list[str] = []
    args: list[Any] = []
    equal_prefix: list[str] = []
    equal_args: list[Any] = []
    for i, key in enumerate(query.sort):
        n_value, k_value = position[2 * i], position[2 * i + 1]
        # later in NULL-group order
        alternatives.append("(" + " AND ".join([*equal_prefix, f"n{i} > ?"]) + ")")
        args += [*equal_args, n_value]
        if k_value is not None:
            op = "<" if key.descending else ">"
            alternatives.append(
                "(" + " AND ".join([*equal_prefix, f"n{i} = ?", f"k{i} {op} ?"]) + ")"
            )
            args += [*equal_args, n_value, k_value]
        equal_prefix += [f"n{i} = ?", f"k{i} IS ?"]
        equal_args += [n_value, k_value]
    alternatives.append("(" + " AND ".join([*equal_prefix, "rid > ?"]) + ")")
    args += [*equal_args, position[-1]]
    return "(" + " OR ".join(alternatives) + ")", args
