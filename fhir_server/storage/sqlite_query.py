"""Translate the search IR into SQL over the SQLite index tables.

Every predicate becomes a boolean SQL expression over the `resources` row aliased `r`;
index look-ups are `r.rid IN (SELECT rid FROM idx_... WHERE type = ? AND param = ? ...)`
so that each one uses its (type, param, value) index.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fhir_server.storage import query as q

_MAX_CHAR = "\U0010ffff"


class SqlBuilder:
    def __init__(self, types: Sequence[str]) -> None:
        self.types = tuple(types)
        self.args: list[Any] = []

    def arg(self, value: Any) -> str:
        self.args.append(value)
        return "?"

    def _type_filter(self) -> str:
        if len(self.types) == 1:
            return f"type = {self.arg(self.types[0])}"
        if self.types:
            return f"type IN ({', '.join(self.arg(t) for t in self.types)})"
        return "1"

    def _lookup(self, table: str, param: str, build_condition) -> str:
        type_sql = self._type_filter()
        param_sql = self.arg(param)
        condition = build_condition()
        cond = f" AND ({condition})" if condition else ""
        return f"r.rid IN (SELECT rid FROM {table} WHERE {type_sql} AND param = {param_sql}{cond})"

    def where(self, predicate: q.Predicate | None) -> str:
        if predicate is None:
            return "1"
        method = getattr(self, "_" + type(predicate).__name__.lower())
        return method(predicate)

    # -- combinators ---------------------------------------------------------------
    def _and(self, p: q.And) -> str:
        if not p.predicates:
            return "1"
        return "(" + " AND ".join(self.where(x) for x in p.predicates) + ")"

    def _or(self, p: q.Or) -> str:
        if not p.predicates:
            return "0"
        return "(" + " OR ".join(self.where(x) for x in p.predicates) + ")"

    def _not(self, p: q.Not) -> str:
        return f"NOT {self.where(p.predicate)}"

    def _nothing(self, p: q.Nothing) -> str:
        return "0"

    # -- record columns ------------------------------------------------------------
    def _idin(self, p: q.IdIn) -> str:
        if not p.ids:
            return "0"
        return f"r.id IN ({', '.join(self.arg(i) for i in p.ids)})"

    def _lastupdated(self, p: q.LastUpdated) -> str:
        # a last_updated instant is a point: low = high = the value
        parts = [f"r.last_updated {op} {self.arg(bound)}" for _field, op, bound in p.conditions]
        return "(" + " AND ".join(parts) + ")" if parts else "1"

    def _incompartment(self, p: q.InCompartment) -> str:
        if not p.patient_ids:
            return "0"
        ids = ", ".join(self.arg(i) for i in p.patient_ids)
        return f"r.rid IN (SELECT rid FROM compartment WHERE patient_id IN ({ids}))"

    # -- index look-ups ------------------------------------------------------------
    def _token(self, p: q.Token) -> str:
        def condition() -> str:
            parts = []
            if p.code is not None:
                parts.append(f"code = {self.arg(p.code)}")
            if p.no_system:
                parts.append("system IS NULL")
            elif p.system is not None:
                parts.append(f"system = {self.arg(p.system)}")
            return " AND ".join(parts)

        return self._lookup("idx_token", p.param, condition)

    def _tokentext(self, p: q.TokenText) -> str:
        def condition() -> str:
            escaped = _like_escape(p.text)
            a = self.arg(escaped + "%")
            b = self.arg("% " + escaped + "%")
            return f"text LIKE {a} ESCAPE '\\' OR text LIKE {b} ESCAPE '\\'"

        return self._lookup("idx_token", p.param, condition)

    def _string(self, p: q.String) -> str:
        def condition() -> str:
            if p.mode == "exact":
                return f"exact = {self.arg(p.value)}"
            if p.mode == "contains":
                return f"value LIKE {self.arg('%' + _like_escape(p.value) + '%')} ESCAPE '\\'"
            return f"value >= {self.arg(p.value)} AND value < {self.arg(p.value + _MAX_CHAR)}"

        return self._lookup("idx_string", p.param, condition)

    def _range(self, p: q.Range) -> str:
        table = "idx_quantity" if p.kind == "quantity" else "idx_range"

        def condition() -> str:
            parts = [f"{field} {op} {self.arg(bound)}" for field, op, bound in p.conditions]
            if p.kind == "quantity":
                if p.system is not None:
                    parts.append(f"system = {self.arg(p.system)}")
                    if p.code is not None:
                        parts.append(f"code = {self.arg(p.code)}")
                elif p.code is not None:
                    parts.append(f"(code = {self.arg(p.code)} OR unit = {self.arg(p.code)})")
            return " AND ".join(parts)

        return self._lookup(table, p.param, condition)

    def _reference(self, p: q.Reference) -> str:
        def condition() -> str:
            alternatives = []
            for target_type, target_id in p.targets:
                if target_type is None:
                    alternatives.append(f"target_id = {self.arg(target_id)}")
                else:
                    alternatives.append(
                        f"(target_id = {self.arg(target_id)}"
                        f" AND target_type = {self.arg(target_type)})"
                    )
            if p.url is not None:
                alternatives.append(f"url = {self.arg(p.url)}")
            return " OR ".join(alternatives) if alternatives else "0"

        return self._lookup("idx_reference", p.param, condition)

    def _uri(self, p: q.Uri) -> str:
        def condition() -> str:
            if p.mode == "below":
                v = p.value.rstrip("/")
                return (
                    f"value = {self.arg(v)} OR (value >= {self.arg(v + '/')}"
                    f" AND value < {self.arg(v + '/' + _MAX_CHAR)})"
                )
            if p.mode == "above":
                # the stored uri is the searched one or one of its path ancestors; a
                # substr comparison, not LIKE: uris are case-sensitive and may hold % or _
                v, w = self.arg(p.value), self.arg(p.value)
                return (
                    f"({v} = value OR substr({w}, 1, length(rtrim(value, '/')) + 1)"
                    " = rtrim(value, '/') || '/')"
                )
            return f"value = {self.arg(p.value)}"

        return self._lookup("idx_uri", p.param, condition)

    def _composite(self, p: q.Composite) -> str:
        def condition() -> str:
            parts = [f"key = {self.arg('$'.join(p.keys))}"]
            parts += [f"{field} {op} {self.arg(bound)}" for field, op, bound in p.conditions]
            return " AND ".join(parts)

        return self._lookup("idx_composite", p.param, condition)

    def _missing(self, p: q.Missing) -> str:
        table = {
            "token": "idx_token",
            "string": "idx_string",
            "range": "idx_range",
            "quantity": "idx_quantity",
            "reference": "idx_reference",
            "uri": "idx_uri",
            "composite": "idx_composite",
        }[p.kind]
        present = self._lookup(table, p.param, lambda: "")
        return f"NOT {present}" if p.missing else present


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
