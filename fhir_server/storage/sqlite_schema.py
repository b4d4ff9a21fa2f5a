"""SQLite tables and indexes (docs/storage.md explains which query each index serves).

Search reads the index tables two ways (see `sqlite_query`): by value, through a
(type, param, value columns..., rid) index that also covers `rid` so look-ups and counts
never touch the table, and, when equalities fix every value column, yields rids in
order for keyset pages; and by resource, through a (rid, param, ...) index that answers
"does this resource have this value" (EXISTS probes) and the write path's deletes.
Version 2 added `rid` to the value indexes, the token/reference/range probe indexes and
`resources_type_live`;
the superseded version 1 indexes are dropped when a store is opened.
Version 3 keeps each resource's `_sort` keys in `resources.sort_keys` (a JSON object,
parameter code -> key) instead of a row per key in a table of their own: about a third
of all index rows, each with its own index entry, were sort keys (`migrate_sort_keys`).
"""

from __future__ import annotations

import sqlite3

SCHEMA_VERSION = 3

# Index tables carry `type` so that (type, param, value) index prefixes are selective
# even for parameter codes shared by many types (`patient`, `subject`, `date`).
DDL = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

CREATE TABLE IF NOT EXISTS resources (
    rid          INTEGER PRIMARY KEY,
    type         TEXT    NOT NULL,
    id           TEXT    NOT NULL,
    version      INTEGER NOT NULL,
    last_updated INTEGER NOT NULL,          -- epoch microseconds, UTC
    deleted      INTEGER NOT NULL DEFAULT 0,
    body         BLOB    NOT NULL,          -- JSON as served (empty for a tombstone)
    sort_keys    TEXT,                      -- {"param": key, ...} for _sort, or NULL
    UNIQUE (type, id)
);
CREATE INDEX IF NOT EXISTS resources_type_updated ON resources (type, last_updated);
-- a type's live resources in rid order: unfiltered pages, dense scans, whole-type counts
CREATE INDEX IF NOT EXISTS resources_type_live ON resources (type, deleted);
CREATE INDEX IF NOT EXISTS resources_updated ON resources (last_updated);

CREATE TABLE IF NOT EXISTS history (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    type         TEXT    NOT NULL,
    id           TEXT    NOT NULL,
    version      INTEGER NOT NULL,
    last_updated INTEGER NOT NULL,
    ended        INTEGER,                   -- when the next version replaced this one
    deleted      INTEGER NOT NULL,
    method       TEXT    NOT NULL,
    body         BLOB    NOT NULL,
    UNIQUE (type, id, version)
);
CREATE INDEX IF NOT EXISTS history_updated ON history (last_updated, seq);
CREATE INDEX IF NOT EXISTS history_type_updated ON history (type, last_updated, seq);

CREATE TABLE IF NOT EXISTS idx_token (
    rid INTEGER NOT NULL, type TEXT NOT NULL, param TEXT NOT NULL,
    system TEXT, code TEXT, text TEXT
);
DROP INDEX IF EXISTS idx_token_code;
DROP INDEX IF EXISTS idx_token_rid;
CREATE INDEX IF NOT EXISTS idx_token_value ON idx_token (type, param, code, system, rid);
CREATE INDEX IF NOT EXISTS idx_token_probe ON idx_token (rid, param, code, system);

CREATE TABLE IF NOT EXISTS idx_string (
    rid INTEGER NOT NULL, type TEXT NOT NULL, param TEXT NOT NULL,
    value TEXT NOT NULL, exact TEXT NOT NULL
);
DROP INDEX IF EXISTS idx_string_value;
CREATE INDEX IF NOT EXISTS idx_string_value_rid ON idx_string (type, param, value, rid);
CREATE INDEX IF NOT EXISTS idx_string_rid ON idx_string (rid);

CREATE TABLE IF NOT EXISTS idx_range (
    rid INTEGER NOT NULL, type TEXT NOT NULL, param TEXT NOT NULL,
    low REAL NOT NULL, high REAL NOT NULL   -- -inf / +inf when open-ended
);
DROP INDEX IF EXISTS idx_range_low;
DROP INDEX IF EXISTS idx_range_high;
CREATE INDEX IF NOT EXISTS idx_range_low_rid ON idx_range (type, param, low, high, rid);
CREATE INDEX IF NOT EXISTS idx_range_high_rid ON idx_range (type, param, high, low, rid);
DROP INDEX IF EXISTS idx_range_rid;
CREATE INDEX IF NOT EXISTS idx_range_probe ON idx_range (rid, param, low, high);

CREATE TABLE IF NOT EXISTS idx_quantity (
    rid INTEGER NOT NULL, type TEXT NOT NULL, param TEXT NOT NULL,
    system TEXT, code TEXT, unit TEXT, low REAL NOT NULL, high REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_quantity_value ON idx_quantity (type, param, low);
CREATE INDEX IF NOT EXISTS idx_quantity_rid ON idx_quantity (rid);

CREATE TABLE IF NOT EXISTS idx_reference (
    rid INTEGER NOT NULL, type TEXT NOT NULL, param TEXT NOT NULL,
    target_type TEXT, target_id TEXT, url TEXT
);
DROP INDEX IF EXISTS idx_reference_target;
CREATE INDEX IF NOT EXISTS idx_reference_value
    ON idx_reference (type, param, target_id, target_type, rid);
CREATE INDEX IF NOT EXISTS idx_reference_url ON idx_reference (type, param, url);
DROP INDEX IF EXISTS idx_reference_rid;
CREATE INDEX IF NOT EXISTS idx_reference_probe
    ON idx_reference (rid, param, target_id, target_type);

CREATE TABLE IF NOT EXISTS idx_uri (
    rid INTEGER NOT NULL, type TEXT NOT NULL, param TEXT NOT NULL, value TEXT NOT NULL
);
DROP INDEX IF EXISTS idx_uri_value;
CREATE INDEX IF NOT EXISTS idx_uri_value_rid ON idx_uri (type, param, value, rid);
CREATE INDEX IF NOT EXISTS idx_uri_rid ON idx_uri (rid);

CREATE TABLE IF NOT EXISTS idx_composite (
    rid INTEGER NOT NULL, type TEXT NOT NULL, param TEXT NOT NULL,
    key TEXT NOT NULL, low REAL, high REAL
);
DROP INDEX IF EXISTS idx_composite_key;
CREATE INDEX IF NOT EXISTS idx_composite_value ON idx_composite (type, param, key, rid);
CREATE INDEX IF NOT EXISTS idx_composite_rid ON idx_composite (rid);

CREATE TABLE IF NOT EXISTS compartment (
    rid INTEGER NOT NULL, patient_id TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS compartment_patient ON compartment (patient_id, rid);
CREATE INDEX IF NOT EXISTS compartment_rid ON compartment (rid);
"""

INDEX_TABLES = (
    "idx_token",
    "idx_string",
    "idx_range",
    "idx_quantity",
    "idx_reference",
    "idx_uri",
    "idx_composite",
    "compartment",
)


# R4 defines each of Observation's combo-* parameters as the union of two others
# (`combo-code` is `Observation.code | Observation.component.code`, that is `code` and
# `component-code`). Their index rows would repeat those two parameters' rows (a sixth of
# a Synthea load's rows), so they are not stored, and a search on one reads the rows of
# both: "has a row matching X" means the same either way.
# tests/storage/test_sqlite_union_params.py checks the table against the definitions.
UNION_PARAMS: dict[tuple[str, str], tuple[str, str]] = {
    ("Observation", "combo-code"): ("code", "component-code"),
    ("Observation", "combo-code-value-concept"): (
        "code-value-concept",
        "component-code-value-concept",
    ),
    ("Observation", "combo-code-value-quantity"): (
        "code-value-quantity",
        "component-code-value-quantity",
    ),
    ("Observation", "combo-data-absent-reason"): (
        "data-absent-reason",
        "component-data-absent-reason",
    ),
    ("Observation", "combo-value-concept"): ("value-concept", "component-value-concept"),
    ("Observation", "combo-value-quantity"): ("value-quantity", "component-value-quantity"),
}
UNSTORED_PARAMS: dict[str, frozenset[str]] = {
    type_: frozenset(p for t, p in UNION_PARAMS if t == type_) for type_, _ in UNION_PARAMS
}


def migrate_sort_keys(conn: sqlite3.Connection) -> None:
    """Bring a version 2 store's sort keys into `resources.sort_keys` (inside the
    caller's transaction; 35 s for the 1M-resource benchmark store)."""
    columns = {row[1] for row in conn.execute("PRAGMA table_info(resources)")}
    if "sort_keys" not in columns:
        conn.execute("ALTER TABLE resources ADD COLUMN sort_keys TEXT")
    has_table = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'idx_sort'"
    ).fetchone()
    if has_table:
        conn.execute(
            # JSON has no -Infinity (an open-ended start): the lowest double stands in
            "UPDATE resources SET sort_keys = (SELECT json_group_object(s.param,"
            " CASE WHEN s.key = -9e999 THEN -1.7976931348623157e308 ELSE s.key END)"
            " FROM idx_sort s WHERE s.rid = resources.rid)"
            " WHERE rid IN (SELECT rid FROM idx_sort)"
        )
        conn.execute("DROP TABLE idx_sort")
