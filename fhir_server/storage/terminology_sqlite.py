"""SQLite concept store: four tables in the server's database file (see terminology_base).

term_system   (url PK, version, name, count)
term_concept  (system, code) PK WITHOUT ROWID: display, dlen (display length, the
              type-ahead order: shorter matches first), body (JSON designations,
              properties, parents)
term_word     (system, word, code) PK: the driving range scan of a text filter;
              index (system, code, word): the probe for the other words
term_closure  (system, ancestor, code) PK: descendants of a code in one range scan;
              index (system, code, ancestor): ancestors, and "is this code below X"
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import orjson

from fhir_server.storage.terminology_base import ConceptPage, StoredConcept, StoredSystem
from fhir_server.storage.terminology_closure import closure_pairs

DDL = """
CREATE TABLE IF NOT EXISTS term_system (
    url TEXT PRIMARY KEY, version TEXT, name TEXT, count INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS term_concept (
    system TEXT NOT NULL, code TEXT NOT NULL, display TEXT, dlen INTEGER NOT NULL,
    body BLOB NOT NULL, PRIMARY KEY (system, code)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS term_word (
    system TEXT NOT NULL, word TEXT NOT NULL, code TEXT NOT NULL, dlen INTEGER NOT NULL,
    PRIMARY KEY (system, word, code)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS term_closure (
    system TEXT NOT NULL, ancestor TEXT NOT NULL, code TEXT NOT NULL,
    PRIMARY KEY (system, ancestor, code)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS term_closure_up ON term_closure (system, code, ancestor);
"""

_BATCH = 5000
_COLUMNS = "code, display, body"


def _concept(row: Sequence[Any]) -> StoredConcept:
    body = orjson.loads(row[2])
    return StoredConcept(
        code=row[0],
        display=row[1],
        designations=tuple(tuple(d) for d in body.get("d", ())),  # type: ignore[misc]
        properties=tuple(tuple(p) for p in body.get("p", ())),  # type: ignore[misc]
        parents=tuple(body.get("up", ())),
    )


def _upper(prefix: str) -> str:
    return prefix + "\U0010ffff"


class SQLiteTerminologyStore:
    def __init__(self, connect: Callable[[], sqlite3.Connection]) -> None:
        self._connect = connect  # the store's per-thread connection
        with self._write() as conn:
            for statement in DDL.split(";"):
                if statement.strip():
                    conn.execute(statement)

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        conn = self._connect()
        if conn.in_transaction:
            yield conn
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    # -- loading ------------------------------------------------------------------
    def systems(self) -> list[StoredSystem]:
        rows = self._connect().execute("SELECT url, version, name, count FROM term_system")
        return [StoredSystem(*row) for row in rows]

    def begin_system(self, url: str, version: str | None, name: str | None) -> None:
        self.drop_system(url)
        with self._write() as conn:
            conn.execute(
                "INSERT INTO term_system (url, version, name, count) VALUES (?, ?, ?, 0)",
                (url, version, name),
            )

    def put_concepts(self, url: str, concepts: Sequence[StoredConcept]) -> None:
        with self._write() as conn:
            conn.executemany(
                "INSERT OR REPLACE INTO term_concept (system, code, display, dlen, body)"
                " VALUES (?, ?, ?, ?, ?)",
                [(url, c.code, c.display, len(c.display or ""), _body(c)) for c in concepts],
            )
            conn.executemany(
                "INSERT OR IGNORE INTO term_word (system, word, code, dlen) VALUES (?, ?, ?, ?)",
                [
                    (url, word, c.code, len(c.display or ""))
                    for c in concepts
                    for word in set(c.words)
                ],
            )

    def finish_system(self, url: str) -> int:
        conn = self._connect()
        parents: dict[str, tuple[str, ...]] = {}
        for code, body in conn.execute(
            "SELECT code, body FROM term_concept WHERE system = ?", (url,)
        ):
            parents[code] = tuple(orjson.loads(body).get("up", ()))
        with self._write() as conn:
            conn.execute("DELETE FROM term_closure WHERE system = ?", (url,))
            batch: list[tuple[str, str, str]] = []
            for ancestor, code in closure_pairs(parents):
                batch.append((url, ancestor, code))
                if len(batch) >= _BATCH:
                    conn.executemany("INSERT OR IGNORE INTO term_closure VALUES (?, ?, ?)", batch)
                    batch.clear()
            conn.executemany("INSERT OR IGNORE INTO term_closure VALUES (?, ?, ?)", batch)
            conn.execute("UPDATE term_system SET count = ? WHERE url = ?", (len(parents), url))
        return len(parents)

    def drop_system(self, url: str) -> None:
        with self._write() as conn:
            for table in ("term_concept", "term_word", "term_closure"):
                conn.execute(f"DELETE FROM {table} WHERE system = ?", (url,))
            conn.execute("DELETE FROM term_system WHERE url = ?", (url,))

    # -- reading ------------------------------------------------------------------
    def lookup(self, url: str, code: str) -> StoredConcept | None:
        row = (
            self._connect()
            .execute(
                f"SELECT {_COLUMNS} FROM term_concept WHERE system = ? AND code = ?", (url, code)
            )
            .fetchone()
        )
        return _concept(row) if row else None

    def lookup_many(self, url: str, codes: Iterable[str]) -> dict[str, StoredConcept]:
        found: dict[str, StoredConcept] = {}
        wanted = list(dict.fromkeys(codes))
        conn = self._connect()
        for start in range(0, len(wanted), 400):
            chunk = wanted[start : start + 400]
            marks = ",".join("?" * len(chunk))
            for row in conn.execute(
                f"SELECT {_COLUMNS} FROM term_concept WHERE system = ? AND code IN ({marks})",
                (url, *chunk),
            ):
                found[row[0]] = _concept(row)
        return found

    def subsumes(self, url: str, ancestor: str, descendant: str) -> bool:
        row = (
            self._connect()
            .execute(
                "SELECT 1 FROM term_closure WHERE system = ? AND code = ? AND ancestor = ?",
                (url, descendant, ancestor),
            )
            .fetchone()
        )
        return row is not None

    def descendants(self, url: str, code: str, limit: int | None = None) -> list[str]:
        sql = "SELECT code FROM term_closure WHERE system = ? AND ancestor = ?"
        args: tuple[Any, ...] = (url, code)
        if limit is not None:
            sql += " LIMIT ?"
            args += (limit,)
        return [row[0] for row in self._connect().execute(sql, args)]

    def ancestors(self, url: str, code: str) -> list[str]:
        rows = self._connect().execute(
            "SELECT ancestor FROM term_closure WHERE system = ? AND code = ?", (url, code)
        )
        return [row[0] for row in rows]

    def count_below(self, url: str, code: str | None) -> int:
        if code is None:
            sql, args = "SELECT count FROM term_system WHERE url = ?", (url,)
        else:
            sql = "SELECT count(*) FROM term_closure WHERE system = ? AND ancestor = ?"
            args = (url, code)  # type: ignore[assignment]
        row = self._connect().execute(sql, args).fetchone()
        return int(row[0]) if row else 0

    def search(
        self,
        url: str,
        words: Sequence[str],
        below: str | None = None,
        offset: int = 0,
        count: int = 20,
    ) -> ConceptPage:
        if not words:
            return self._all(url, below, offset, count)
        conn = self._connect()
        # each word is one range scan of the (system, word, code, dlen) primary key; the
        # matches are intersected here, which costs far less than probing the other words
        # (and the closure) for every row of the first word's range
        matches: dict[str, int] | None = None
        for word in sorted(dict.fromkeys(words), key=len, reverse=True):
            rows = conn.execute(
                "SELECT code, dlen FROM term_word WHERE system = ? AND word >= ? AND word < ?",
                (url, word, _upper(word)),
            ).fetchall()
            found = dict(rows)
            matches = found if matches is None else {c: d for c, d in matches.items() if c in found}
            if not matches:
                return ConceptPage()
        assert matches is not None
        if below is not None:
            matches = {c: matches[c] for c in self._below(conn, url, below, matches)}
        # rank by (display length, display, code): displays are read only for the
        # candidates no longer than the last one the page needs (ties included)
        by_length = sorted(matches.items(), key=lambda item: item[1])
        need = offset + count
        if need <= 0:
            return ConceptPage(total=len(matches))
        cutoff = by_length[min(need, len(by_length)) - 1][1]
        head = [code for code, length in by_length if length <= cutoff]
        displays = self._displays(conn, url, head)
        head.sort(key=lambda code: (matches[code], displays.get(code) or "", code))
        page_codes = head[offset:need]
        found_concepts = self.lookup_many(url, page_codes)
        concepts = [found_concepts[c] for c in page_codes if c in found_concepts]
        return ConceptPage(concepts, len(matches))

    @staticmethod
    def _displays(conn: sqlite3.Connection, url: str, codes: list[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        for start in range(0, len(codes), 400):
            chunk = codes[start : start + 400]
            marks = ",".join("?" * len(chunk))
            found.update(
                conn.execute(
                    "SELECT code, display FROM term_concept WHERE system = ?"
                    f" AND code IN ({marks})",
                    (url, *chunk),
                ).fetchall()
            )
        return found

    def _below(
        self, conn: sqlite3.Connection, url: str, below: str, candidates: dict[str, int]
    ) -> list[str]:
        if len(candidates) <= 2000:
            kept: list[str] = []
            codes = list(candidates)
            for start in range(0, len(codes), 400):
                chunk = codes[start : start + 400]
                marks = ",".join("?" * len(chunk))
                kept += [
                    row[0]
                    for row in conn.execute(
                        "SELECT code FROM term_closure WHERE system = ? AND ancestor = ?"
                        f" AND code IN ({marks})",
                        (url, below, *chunk),
                    )
                ]
            return kept
        descendants = set(self.descendants(url, below))
        return [c for c in candidates if c in descendants]

    def _all(self, url: str, below: str | None, offset: int, count: int) -> ConceptPage:
        conn = self._connect()
        if below is None:
            where, args = "c.system = ?", [url]
        else:
            where = (
                "c.system = ? AND c.code IN (SELECT code FROM term_closure WHERE system = ?"
                " AND ancestor = ?)"
            )
            args = [url, url, below]
        total = int(
            conn.execute(f"SELECT count(*) FROM term_concept c WHERE {where}", args).fetchone()[0]
        )
        page = ConceptPage(total=total)
        if count > 0 and total > offset:
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM term_concept c WHERE {where}"
                " ORDER BY c.dlen, c.display, c.code LIMIT ? OFFSET ?",
                (*args, count, offset),
            )
            page.concepts = [_concept(row) for row in rows]
        return page


def _body(concept: StoredConcept) -> bytes:
    body: dict[str, Any] = {}
    if concept.designations:
        body["d"] = concept.designations
    if concept.properties:
        body["p"] = concept.properties
    if concept.parents:
        body["up"] = concept.parents
    return orjson.dumps(body)
