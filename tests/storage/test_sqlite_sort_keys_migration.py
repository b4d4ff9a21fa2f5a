"""A version 2 SQLite store (sort keys in an `idx_sort` table) opens as version 3: the
keys move into `resources.sort_keys` and sorted searches give the same order."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import orjson

from fhir_server.storage.query import SearchQuery, SortKey
from fhir_server.storage.sqlite import SQLiteStore


def _version_2_store(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.executescript(
        """
        CREATE TABLE resources (
            rid INTEGER PRIMARY KEY, type TEXT NOT NULL, id TEXT NOT NULL,
            version INTEGER NOT NULL, last_updated INTEGER NOT NULL,
            deleted INTEGER NOT NULL DEFAULT 0, body BLOB NOT NULL, UNIQUE (type, id));
        CREATE TABLE idx_sort (rid INTEGER NOT NULL, type TEXT NOT NULL,
            param TEXT NOT NULL, key);
        CREATE UNIQUE INDEX idx_sort_rid ON idx_sort (rid, param);
        """
    )
    births = {"a": 3.0e15, "b": 1.0e15, "c": None, "d": float("-inf")}
    for rid, (id_, birth) in enumerate(births.items(), start=1):
        body = orjson.dumps({"resourceType": "Patient", "id": id_})
        conn.execute("INSERT INTO resources VALUES (?, 'Patient', ?, 1, 0, 0, ?)", (rid, id_, body))
        if birth is not None:
            conn.execute("INSERT INTO idx_sort VALUES (?, 'Patient', 'birthdate', ?)", (rid, birth))
    conn.commit()
    conn.close()


def test_sort_keys_move_into_the_resources_table(tmp_path: Path) -> None:
    path = tmp_path / "v2.db"
    _version_2_store(path)
    store = SQLiteStore(str(path))
    try:
        with store.session() as session:
            page = session.search(
                SearchQuery(types=("Patient",), sort=(SortKey("birthdate"),), count=10)
            )
        # an open-ended start first, then by value, resources without a key last
        assert [r.id for r in page.records] == ["d", "b", "a", "c"]
        conn = sqlite3.connect(path)
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
        conn.close()
        assert "idx_sort" not in tables
    finally:
        store.close()
