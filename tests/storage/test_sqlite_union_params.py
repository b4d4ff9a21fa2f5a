"""SQLite stores no rows for Observation's combo-* parameters (each is the union of two
others, see sqlite_schema.UNION_PARAMS); tests/api/test_search_combo_params.py shows the
searches still find what they should, on every adapter."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from fhir_server.api.app import build_context
from fhir_server.rest.create import create
from fhir_server.rest.update import update
from fhir_server.search.registry import SearchParameterRegistry
from fhir_server.settings import Settings
from fhir_server.storage.sqlite import SQLiteStore
from fhir_server.storage.sqlite_schema import UNION_PARAMS
from tests.api.test_search_combo_params import blood_pressure


def _parts(expression: str, type_: str) -> frozenset[str]:
    """The `|`-separated parts of an expression that apply to `type_`."""
    found = set()
    for part in expression.split(" | "):
        part = part.strip()
        core = part.lstrip("(")
        if core == type_ or core.startswith((f"{type_}.", f"{type_} ")):
            found.add(part)
    return frozenset(found)


def test_the_table_is_what_the_r4_definitions_say() -> None:
    registry = SearchParameterRegistry.load_default()
    for (type_, code), (first, second) in UNION_PARAMS.items():
        union, a, b = (registry.get(type_, c) for c in (code, first, second))
        assert union is not None and a is not None and b is not None
        assert union.type == a.type == b.type
        whole = _parts(union.expression or "", type_)
        left, right = _parts(a.expression or "", type_), _parts(b.expression or "", type_)
        assert left and right and not (left & right)
        assert left | right == whole, code
        signature = [(c.type, c.expression) for c in union.components]
        assert signature == [(c.type, c.expression) for c in a.components]
        assert signature == [(c.type, c.expression) for c in b.components]


def test_sqlite_writes_no_rows_for_them(tmp_path: Path) -> None:
    ctx = build_context(Settings(), store=SQLiteStore(str(tmp_path / "u.db")))
    try:
        update(ctx, "Patient", "p1", {"resourceType": "Patient", "id": "p1"})
        create(ctx, "Observation", blood_pressure())
    finally:
        ctx.close()
    with sqlite3.connect(tmp_path / "u.db") as conn:
        rows = conn.execute(
            "SELECT count(*) FROM (SELECT param FROM idx_token UNION ALL"
            " SELECT param FROM idx_composite UNION ALL SELECT param FROM idx_quantity)"
            " WHERE param LIKE 'combo-%'"
        ).fetchone()[0]
        stored = conn.execute(
            "SELECT count(*) FROM idx_composite WHERE param = 'component-code-value-quantity'"
        ).fetchone()[0]
    assert rows == 0
    assert stored > 0
