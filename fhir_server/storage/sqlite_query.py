"""Translate the search IR into SQL over the SQLite index tables.

Every predicate becomes a boolean SQL expression over the `resources` row aliased `r`.
An index look-up (`Lookup`: one index table, one parameter, a condition on its value
columns) is rendered in one of two ways, chosen per look-up by the planner in
`sqlite_search`:

- materialised: `r.rid IN (SELECT rid FROM idx_... WHERE type = ? AND param = ? AND ...)`
  reads every matching index entry once, through the (type, param, value..., rid)
  covering index; right when the look-up matches few resources;
- probed: `EXISTS (SELECT 1 FROM idx_... x WHERE x.rid = r.rid AND x.param = ? AND ...)`
  checks one candidate row through the (rid, ...) index; right when the rows are already
  narrowed by something else, or when the look-up matches most of them.

A look-up can also drive a page directly (`Lookup.ordered`): when its condition is
equalities on every value column its index holds before `rid`, the index yields
matching rids in ascending order, so a page is a keyset range scan of that index.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from fhir_server.storage import query as q
from fhir_server.storage.sqlite_schema import UNION_PARAMS

_MAX_CHAR = "\U0010ffff"


@dataclass(frozen=True, slots=True)
class Lookup:
    """Index entries of `table` for `param` (None: the compartment table) matching `condition`.

    `condition` names the table's value columns unqualified; `args` fill its `?`s in order.
    """

    table: str
    param: str | None
    condition: str
    args: tuple[Any, ...]
    ordered: bool = False  # entries come out in rid order for this condition


LOOKUP_TYPES = (
    q.Token,
    q.TokenIn,
    q.TokenText,
    q.String,
    q.Range,
    q.Reference,
    q.Uri,
    q.Composite,
    q.InCompartment,
)


def lookup_of(p: q.Predicate) -> Lookup | None:
    """The single index look-up a predicate is, or None for combinators and columns."""
    match p:
        case q.Token():
            return _token(p)
        case q.TokenIn():
            return _token_in(p)
        case q.TokenText():
            escaped = _like_escape(p.text)
            return Lookup(
                "idx_token",
                p.param,
                "text LIKE ? ESCAPE '\\' OR text LIKE ? ESCAPE '\\'",
                (escaped + "%", "% " + escaped + "%"),
            )
        case q.String():
            return _string(p)
        case q.Range():
            return _range(p)
        case q.Reference():
            return _reference(p)
        case q.Uri():
            return _uri(p)
        case q.Composite():
            parts = ["key = ?"] + [f"{field} {op} ?" for field, op, _b in p.conditions]
            args = ("$".join(p.keys), *(bound for _f, _op, bound in p.conditions))
            return Lookup("idx_composite", p.param, " AND ".join(parts), args, not p.conditions)
        case q.InCompartment(patient_ids=ids) if ids:
            marks = ", ".join("?" for _ in ids)
            return Lookup("compartment", None, f"patient_id IN ({marks})", ids, len(ids) == 1)
        case q.Missing(missing=False):
            return Lookup(MISSING_TABLES[p.kind], p.param, "", ())
    return None


MISSING_TABLES = {
    "token": "idx_token",
    "string": "idx_string",
    "range": "idx_range",
    "quantity": "idx_quantity",
    "reference": "idx_reference",
    "uri": "idx_uri",
    "composite": "idx_composite",
}


class SqlBuilder:
    """Renders predicates; look-ups are probed unless their predicate is in `materialise`
    (or `materialise_all`).

    `materialise` holds predicate object ids (`id(p)`): the planner decides per object,
    and equal predicates at different places may deserve different renderings.
    """

    def __init__(
        self,
        types: Sequence[str],
        materialise: frozenset[int] = frozenset(),
        materialise_all: bool = False,
    ) -> None:
        self.types = tuple(types)
        self.materialise = materialise
        self.materialise_all = materialise_all
        self.args: list[Any] = []

    def arg(self, value: Any) -> str:
        self.args.append(value)
        return "?"

    def type_filter(self, column: str = "type") -> str:
        if len(self.types) == 1:
            return f"{column} = {self.arg(self.types[0])}"
        if self.types:
            return f"{column} IN ({', '.join(self.arg(t) for t in self.types)})"
        return "1"

    def param_filter(self, alias: str, param: str) -> str:
        """`alias.param` is `param`, or one of the parameters whose rows stand for it."""
        types = self.types or tuple(t for t, p in UNION_PARAMS if p == param)
        union = [UNION_PARAMS.get((t, param)) for t in types]
        if not any(union):
            return f"{alias}.param = {self.arg(param)}"
        if len(self.types) == 1:
            stored = union[0]
            assert stored is not None
            return f"{alias}.param IN ({', '.join(self.arg(x) for x in stored)})"
        alternatives = [f"{alias}.param = {self.arg(param)}"]
        for type_, stored in zip(types, union, strict=True):
            if stored:
                names = ", ".join(self.arg(x) for x in stored)
                alternatives.append(
                    f"({alias}.type = {self.arg(type_)} AND {alias}.param IN ({names}))"
                )
        return "(" + " OR ".join(alternatives) + ")"

    def entries(self, lookup: Lookup, alias: str) -> str:
        """WHERE text selecting `lookup`'s entries of the searched types from `alias`."""
        parts = []
        if lookup.param is not None:
            parts += [self.type_filter(f"{alias}.type"), self.param_filter(alias, lookup.param)]
        if lookup.condition:
            parts.append(f"({lookup.condition})")
            self.args += lookup.args
        return " AND ".join(parts) or "1"

    def where(self, predicate: q.Predicate | None) -> str:
        if predicate is None:
            return "1"
        lookup = lookup_of(predicate)
        if lookup is not None:
            if self.materialise_all or id(predicate) in self.materialise:
                entries = self.entries(lookup, "x")
                return f"r.rid IN (SELECT x.rid FROM {lookup.table} x WHERE {entries})"
            return self._probe(lookup)
        method = getattr(self, "_" + type(predicate).__name__.lower())
        return method(predicate)

    def _probe(self, lookup: Lookup) -> str:
        # the rid fixes the type: no type filter, the (rid, ...) index does the work
        parts = ["x.rid = r.rid"]
        if lookup.param is not None:
            parts.append(self.param_filter("x", lookup.param))
        if lookup.condition:
            parts.append(f"({lookup.condition})")
            self.args += lookup.args
        return f"EXISTS (SELECT 1 FROM {lookup.table} x WHERE {' AND '.join(parts)})"

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

    def _missing(self, p: q.Missing) -> str:  # missing=True: present is a look-up
        return f"NOT {self.where(q.Missing(p.param, p.kind, False))}"

    def _incompartment(self, p: q.InCompartment) -> str:  # no ids: nothing
        return "0"

    # -- record columns ------------------------------------------------------------
    def _idin(self, p: q.IdIn) -> str:
        if not p.ids:
            return "0"
        # placeholders are numbered in the order args are added: the type's comes first
        typed = f"r.type = {self.arg(p.type)} AND " if p.type is not None else ""
        ids = f"r.id IN ({', '.join(self.arg(i) for i in p.ids)})"
        return f"({typed}{ids})"

    def _lastupdated(self, p: q.LastUpdated) -> str:
        # a last_updated instant is a point: low = high = the value
        parts = [f"r.last_updated {op} {self.arg(bound)}" for _field, op, bound in p.conditions]
        return "(" + " AND ".join(parts) + ")" if parts else "1"


# -- look-ups per predicate kind ---------------------------------------------------------
def _token(p: q.Token) -> Lookup:
    parts: list[str] = []
    args: list[Any] = []
    if p.code is not None:
        parts.append("code = ?")
        args.append(p.code)
    if p.no_system:
        parts.append("system IS NULL")
    elif p.system is not None:
        parts.append("system = ?")
        args.append(p.system)
    # idx_token_code is (type, param, code, system, rid)
    ordered = p.code is not None and (p.no_system or p.system is not None)
    return Lookup("idx_token", p.param, " AND ".join(parts), tuple(args), ordered)


def _token_in(p: q.TokenIn) -> Lookup:
    """One `code IN (...)` per system: each is a run of seeks on idx_token_code."""
    by_system: dict[str, list[str]] = {}
    for system, code in p.codes:
        by_system.setdefault(system, []).append(code)
    if not by_system:
        return Lookup("idx_token", p.param, "0", ())
    alternatives: list[str] = []
    args: list[Any] = []
    for system, codes in by_system.items():
        codes = list(dict.fromkeys(codes))
        alternatives.append(f"(code IN ({', '.join('?' for _ in codes)}) AND system = ?)")
        args += [*codes, system]
    return Lookup("idx_token", p.param, " OR ".join(alternatives), tuple(args))


def _string(p: q.String) -> Lookup:
    if p.mode == "exact":
        return Lookup("idx_string", p.param, "exact = ?", (p.value,))
    if p.mode == "contains":
        return Lookup(
            "idx_string", p.param, "value LIKE ? ESCAPE '\\'", ("%" + _like_escape(p.value) + "%",)
        )
    return Lookup("idx_string", p.param, "value >= ? AND value < ?", (p.value, p.value + _MAX_CHAR))


def _range(p: q.Range) -> Lookup:
    table = "idx_quantity" if p.kind == "quantity" else "idx_range"
    parts = [f"{field} {op} ?" for field, op, _bound in p.conditions]
    args: list[Any] = [bound for _f, _op, bound in p.conditions]
    if p.kind == "quantity":
        if p.system is not None:
            parts.append("system = ?")
            args.append(p.system)
            if p.code is not None:
                parts.append("code = ?")
                args.append(p.code)
        elif p.code is not None:
            parts.append("(code = ? OR unit = ?)")
            args += [p.code, p.code]
    return Lookup(table, p.param, " AND ".join(parts), tuple(args))


def _reference(p: q.Reference) -> Lookup:
    alternatives: list[str] = []
    args: list[Any] = []
    for target_type, target_id in p.targets:
        if target_type is None:
            alternatives.append("target_id = ?")
            args.append(target_id)
        else:
            alternatives.append("(target_id = ? AND target_type = ?)")
            args += [target_id, target_type]
    if p.url is not None:
        alternatives.append("url = ?")
        args.append(p.url)
    if not alternatives:
        return Lookup("idx_reference", p.param, "0", ())
    condition = " OR ".join(alternatives)
    if p.url is None and len(p.targets) > 1:
        # implied by every alternative; gives the index a set of target_id ranges to
        # seek instead of a scan of the whole parameter (chains feed many targets)
        marks = ", ".join("?" for _ in p.targets)
        condition = f"target_id IN ({marks}) AND ({condition})"
        args = [target_id for _type, target_id in p.targets] + args
    # idx_reference_target is (type, param, target_id, target_type, rid)
    ordered = p.url is None and len(p.targets) == 1 and p.targets[0][0] is not None
    return Lookup("idx_reference", p.param, condition, tuple(args), ordered)


def _uri(p: q.Uri) -> Lookup:
    if p.mode == "below":
        v = p.value.rstrip("/")
        return Lookup(
            "idx_uri",
            p.param,
            "value = ? OR (value >= ? AND value < ?)",
            (v, v + "/", v + "/" + _MAX_CHAR),
        )
    if p.mode == "above":
        # the stored uri is the searched one or one of its path ancestors; a substr
        # comparison, not LIKE: uris are case-sensitive and may hold % or _
        return Lookup(
            "idx_uri",
            p.param,
            "(? = value OR substr(?, 1, length(rtrim(value, '/')) + 1) = rtrim(value, '/') || '/')",
            (p.value, p.value),
        )
    return Lookup("idx_uri", p.param, "value = ?", (p.value,), True)


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
