"""Search, count and sub-search queries on SQLite: a small planner over `sqlite_query`.

The cost of a page must not grow with the size of the result (ADR 0003). For the default
order (rid) the planner picks, from the top-level conjuncts of the predicate:

1. a driver: a look-up whose index yields matching rids in order (`Lookup.ordered`,
   e.g. `code=system|code`, `subject=Patient/1`): the page is a keyset range scan of
   that index joined to `resources`; the other conjuncts are probed per row;
2. otherwise a small look-up (fewer than `SMALL` index entries, measured by a bounded
   count): it is materialised as an rid list, the rest probed;
3. otherwise every look-up is probed while `resources` is scanned in rid order through
   `resources_type_live`: each look-up matches many rows, so a page fills quickly.

Pages with `_sort`, counts and `_has` targets need every match anyway: they materialise
every look-up (index-only reads), then sort or count.

Counts of a single look-up read only its covering index: index rows exist only for the
current, non-deleted version of a resource (the write path deletes a resource's rows
before writing a new version's, and writes none for a tombstone).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from fhir_server.errors import FhirError
from fhir_server.instants import from_micros
from fhir_server.storage import query as q
from fhir_server.storage.cursor import decode_cursor, encode_cursor
from fhir_server.storage.query import Predicate, SearchPage, SearchQuery
from fhir_server.storage.records import StoredRecord
from fhir_server.storage.sqlite_query import Lookup, SqlBuilder, lookup_of

RECORD_COLUMNS = "r.type, r.id, r.version, r.last_updated, r.deleted, r.body"
SMALL = 20_000  # index entries below which materialising a look-up beats scanning
# drivers by how few rows they usually match: a patient's compartment or references
# before a code shared by many patients
_DRIVER_RANK = {"compartment": 0, "idx_reference": 1, "idx_uri": 2, "idx_composite": 3}


@dataclass(slots=True)
class Plan:
    source: str  # FROM clause, with `r` the resources row
    where: str
    args: list[Any]
    rid: str  # the column that orders rows: r.rid, or d.rid for a driver
    grouped: bool  # the driver's index may hold one rid several times


def conjuncts(where: Predicate | None) -> list[Predicate]:
    if where is None:
        return []
    if isinstance(where, q.And):
        return [c for p in where.predicates for c in conjuncts(p)]
    return [where]


def plan(
    conn: sqlite3.Connection, types: Sequence[str], where: Predicate | None, keyset: bool
) -> Plan:
    parts = conjuncts(where)
    lookups = [(p, lookup_of(p)) for p in parts]
    if keyset and not any(isinstance(p, q.IdIn) for p in parts):
        ordered = [(p, lk) for p, lk in lookups if lk is not None and lk.ordered]
        if ordered:
            driver, lookup = min(ordered, key=lambda x: _DRIVER_RANK.get(x[1].table, 9))
            return _driven(types, parts, driver, lookup)
    if keyset:
        materialise = _smallest(conn, types, parts)
        builder = SqlBuilder(types, frozenset(id(p) for p in materialise))
    else:
        # every match is read anyway: index-only rid lists beat a probe per row per look-up
        materialise = [p for p, lk in lookups if lk is not None]
        builder = SqlBuilder(types, materialise_all=True)
    # with an rid list to walk, `+` keeps SQLite from preferring the type index instead
    type_sql = builder.type_filter("+r.type" if materialise else "r.type")
    clauses = ["r.deleted = 0", type_sql, *(builder.where(p) for p in parts)]
    return Plan("resources r", " AND ".join(clauses), builder.args, "r.rid", False)


def _driven(
    types: Sequence[str], parts: list[Predicate], driver: Predicate, lookup: Lookup
) -> Plan:
    builder = SqlBuilder(types)
    source = f"{lookup.table} d JOIN resources r ON r.rid = d.rid"
    clauses = [builder.entries(lookup, "d"), "r.deleted = 0", builder.type_filter("r.type")]
    clauses += [builder.where(p) for p in parts if p is not driver]
    return Plan(source, " AND ".join(clauses), builder.args, "d.rid", True)


def _smallest(
    conn: sqlite3.Connection, types: Sequence[str], parts: list[Predicate]
) -> list[Predicate]:
    """The predicates to materialise: those of the conjunct with fewest entries, if small."""
    best: tuple[int, list[Predicate]] | None = None
    for p in parts:
        members = list(p.predicates) if isinstance(p, q.Or) else [p]
        found = [lookup_of(m) for m in members]
        if not members or any(lk is None for lk in found):
            continue
        size = 0
        for lk in found:
            assert lk is not None
            size += _bounded_size(conn, types, lk)
            if size >= SMALL:
                break
        if size < SMALL and (best is None or size < best[0]):
            best = (size, members)
    return best[1] if best else []


def _bounded_size(conn: sqlite3.Connection, types: Sequence[str], lookup: Lookup) -> int:
    builder = SqlBuilder(types)
    sql = (
        f"SELECT count(*) FROM (SELECT 1 FROM {lookup.table} x"
        f" WHERE {builder.entries(lookup, 'x')} LIMIT {SMALL})"
    )
    return conn.execute(sql, builder.args).fetchone()[0]


def _record(row: Sequence[Any]) -> StoredRecord:
    # sqlite.py's row reader, inlined: this runs once per streamed resource
    return StoredRecord(row[0], row[1], row[2], from_micros(row[3]), bool(row[4]), row[5])


def search(conn: sqlite3.Connection, query: SearchQuery) -> SearchPage:
    rows = _sorted_rows(conn, query) if query.sort else _rid_rows(conn, query)
    records = [_record(row) for row in rows[: query.count]]
    page = SearchPage(records=records)
    if len(rows) > query.count > 0:
        page.next_cursor = encode_cursor(list(rows[query.count - 1][6:]))
    if query.total != "none":
        page.total = count(conn, query.types, query.where)
    return page


def _rid_rows(conn: sqlite3.Connection, query: SearchQuery) -> list[Sequence[Any]]:
    p = plan(conn, query.types, query.where, keyset=True)
    where, args = p.where, list(p.args)
    if query.cursor:
        position = decode_cursor(query.cursor)
        if len(position) != 1 or not isinstance(position[0], int):
            raise FhirError(
                400, "invalid", "The paging cursor does not match this search", ["_cursor"]
            )
        where += f" AND {p.rid} > ?"
        args.append(position[0])
    group = f" GROUP BY {p.rid}" if p.grouped else ""
    sql = (
        f"SELECT {RECORD_COLUMNS}, {p.rid} FROM {p.source} WHERE {where}{group}"
        f" ORDER BY {p.rid} LIMIT {max(query.count, 0) + 1}"
    )
    return conn.execute(sql, args).fetchall()


def _sorted_rows(conn: sqlite3.Connection, query: SearchQuery) -> list[Sequence[Any]]:
    p = plan(conn, query.types, query.where, keyset=False)
    key_columns: list[str] = []
    order: list[str] = []
    key_args: list[Any] = []
    for i, key in enumerate(query.sort):
        if key.param == "_id":
            expr = "r.id"
        elif key.param == "_lastUpdated":
            expr = "r.last_updated"
        else:
            expr = "json_extract(r.sort_keys, ?)"
            path = f'$."{key.param}"'
            key_args += [path, path]  # the expression appears twice below
        key_columns.append(f"({expr}) IS NULL AS n{i}, {expr} AS k{i}")
        # both directions put resources without a value last
        order.append(f"n{i} ASC, k{i} {'DESC' if key.descending else 'ASC'}")
    order.append("rid ASC")
    columns = ", ".join([RECORD_COLUMNS, "r.rid AS rid", *key_columns])
    inner = f"SELECT {columns} FROM {p.source} WHERE {p.where}"
    outer_where, outer_args = "1", []
    if query.cursor:
        outer_where, outer_args = _after_position(query, decode_cursor(query.cursor))
    sql = (
        f"SELECT * FROM ({inner}) WHERE {outer_where} ORDER BY {', '.join(order)}"
        f" LIMIT {max(query.count, 0) + 1}"
    )
    rows = conn.execute(sql, key_args + p.args + outer_args).fetchall()
    # the cursor is every sort key's (null flag, value), then the rid
    return [(*row[:6], *row[7:], row[6]) for row in rows]


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


def count(conn: sqlite3.Connection, types: Sequence[str], where: Predicate | None) -> int:
    parts = conjuncts(where)
    lookup = lookup_of(parts[0]) if len(parts) == 1 else None
    # the compartment table has no type column: its counts go through `resources`
    if lookup is not None and lookup.param is not None:
        builder = SqlBuilder(types)
        entries = builder.entries(lookup, "x")
        sql = f"SELECT count(DISTINCT x.rid) FROM {lookup.table} x WHERE {entries}"
        return conn.execute(sql, builder.args).fetchone()[0]
    p = plan(conn, types, where, keyset=False)
    return conn.execute(f"SELECT count(*) FROM {p.source} WHERE {p.where}", p.args).fetchone()[0]


def match_keys(
    conn: sqlite3.Connection,
    types: Sequence[str],
    where: Predicate | None,
    limit: int | None = None,
) -> list[tuple[str, str]]:
    p = plan(conn, types, where, keyset=True)
    group = f" GROUP BY {p.rid}" if p.grouped else ""
    sql = f"SELECT r.type, r.id FROM {p.source} WHERE {p.where}{group} ORDER BY {p.rid}"
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    return [(row[0], row[1]) for row in conn.execute(sql, p.args)]


def referenced_keys(
    conn: sqlite3.Connection, types: Sequence[str], where: Predicate | None, param: str | None
) -> list[tuple[str, str]]:
    """Targets of `param` references (of any reference parameter when None)."""
    p = plan(conn, types, where, keyset=False)
    by_param = "t.param = ? AND " if param is not None else ""
    rows = conn.execute(
        "SELECT DISTINCT t.target_type, t.target_id FROM idx_reference t"
        f" WHERE {by_param}t.target_id IS NOT NULL AND t.rid IN"
        f" (SELECT r.rid FROM {p.source} WHERE {p.where})",
        [param, *p.args] if param is not None else p.args,
    )
    return [(row[0], row[1]) for row in rows if row[0] is not None]
