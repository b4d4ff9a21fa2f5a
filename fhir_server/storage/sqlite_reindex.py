"""SQLite: replace the index rows of current versions in place (`$reindex`).

Kept apart from the write path in `sqlite.py`: it writes no version and no history, only
swaps one record's rows in the index tables, and only while that version is current.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from fhir_server.storage.base import IndexUpdate
from fhir_server.storage.sqlite_schema import INDEX_TABLES


def replace_index(conn: sqlite3.Connection, entries: Sequence[IndexUpdate]) -> int:
    # the adapter's row builders, imported late: sqlite.py imports this module
    from fhir_server.storage.sqlite import (
        _collect_index_rows,
        replace_index_rows,
        sort_keys_json,
    )

    index_rows: dict[str, list[tuple[Any, ...]]] = {t: [] for t in INDEX_TABLES}
    rids: list[int] = []
    sort_keys: list[tuple[str | None, int]] = []
    for e in entries:
        row = conn.execute(
            "SELECT rid FROM resources WHERE type = ? AND id = ? AND version = ? AND deleted = 0",
            (e.type, e.id, e.version),
        ).fetchone()
        if row is None:
            continue  # updated or deleted since it was read: its writer indexed it afresh
        rids.append(row[0])
        _collect_index_rows(index_rows, row[0], e.type, e.index)
        sort_keys.append((sort_keys_json(e.index), row[0]))
    replace_index_rows(conn, rids, index_rows)
    conn.executemany("UPDATE resources SET sort_keys = ? WHERE rid = ?", sort_keys)
    return len(rids)
