"""Translate the search IR into MongoDB filters, sorts and keyset conditions.

Every index look-up is an `$elemMatch` on one array of subdocuments, so that all the
conditions of one predicate hold on the same stored value (a quantity's system and its
bounds, a reference's type and id), and its leading `p` equality plus the document's
`type` give the compound multikey indexes of `mongo_layout` their prefix.

The results must equal `sqlite_query.SqlBuilder`'s for every predicate; the storage
contract suite checks that on both adapters.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bson import ObjectId

from fhir_server.errors import FhirError
from fhir_server.storage import mongo_layout as layout
from fhir_server.storage import query as q

Filter = dict[str, Any]

_MAX_CHAR = "\U0010ffff"
NOTHING: Filter = {"_id": {"$in": []}}
_OPS = {">=": "$gte", ">": "$gt", "<=": "$lte", "<": "$lt"}
_FIELDS = {"low": "lo", "high": "hi"}
_KIND_FIELDS = {
    "token": layout.TOKENS,
    "string": layout.STRINGS,
    "range": layout.RANGES,
    "quantity": layout.QUANTITIES,
    "reference": layout.REFERENCES,
    "uri": layout.URIS,
    "composite": layout.COMPOSITES,
}


def base_filter(types: Sequence[str], where: q.Predicate | None) -> Filter:
    """Current, non-deleted resources of `types` (all types when empty) matching `where`."""
    result: Filter = {"deleted": False}
    if len(types) == 1:
        result["type"] = types[0]
    elif types:
        result["type"] = {"$in": list(types)}
    if where is not None:
        condition = translate(where)
        if condition:
            result["$and"] = [condition]
    return result


def translate(p: q.Predicate) -> Filter:
    """One predicate as a filter; `{}` matches everything."""
    match p:
        case q.And(predicates=parts):
            filters = [f for f in (translate(x) for x in parts) if f]
            return {"$and": filters} if len(filters) > 1 else (filters[0] if filters else {})
        case q.Or(predicates=parts):
            filters = [translate(x) for x in parts]
            if not filters:
                return NOTHING
            if any(not f for f in filters):
                return {}
            return {"$or": filters} if len(filters) > 1 else filters[0]
        case q.Not(predicate=inner):
            f = translate(inner)
            return {"$nor": [f]} if f else NOTHING
        case q.Nothing():
            return NOTHING
        case q.IdIn(ids=ids, type=type_):
            if not ids:
                return NOTHING
            typed = {"type": type_} if type_ is not None else {}
            return {**typed, "id": {"$in": list(ids)}}
        case q.LastUpdated(conditions=conditions):
            # an instant is a point: both bound fields are the stored value
            ops = _bounds(("low", op, bound) for _f, op, bound in conditions).get("lo")
            return {"last_updated": ops} if ops else {}
        case q.InCompartment(patient_ids=ids):
            return {layout.PATIENTS: {"$in": list(ids)}} if ids else NOTHING
        case q.Missing(param=param, kind=kind, missing=missing):
            present = _element(_KIND_FIELDS[kind], param, {})
            return {"$nor": [present]} if missing else present
        case q.Token():
            return _token(p)
        case q.TokenIn():
            return _token_in(p)
        case q.TokenText(param=param, text=text):
            return _element(layout.TOKENS, param, {"t": {"$regex": "(?:^| )" + re.escape(text)}})
        case q.String():
            return _string(p)
        case q.Range():
            return _range(p)
        case q.Reference():
            return _reference(p)
        case q.Uri():
            return _uri(p)
        case q.Composite(param=param, keys=keys, conditions=conditions):
            return _element(layout.COMPOSITES, param, {"k": "$".join(keys), **_bounds(conditions)})
    raise TypeError(f"unknown search predicate {p!r}")


def _element(array: str, param: str, condition: Filter) -> Filter:
    return {array: {"$elemMatch": {"p": param, **condition}}}


def _any_element(array: str, param: str, alternatives: list[Filter]) -> Filter:
    """One `$elemMatch` per alternative: each keeps its own index bounds."""
    if not alternatives:
        return NOTHING
    filters = [_element(array, param, a) for a in alternatives]
    return filters[0] if len(filters) == 1 else {"$or": filters}


def _bounds(conditions) -> Filter:
    """{(low|high) op bound...} as `{"lo": {...}, "hi": {...}}`, keeping the tightest bound."""
    out: dict[str, dict[str, float]] = {}
    for field, op, bound in conditions:
        ops = out.setdefault(_FIELDS[field], {})
        name = _OPS[op]
        if name in ops:
            tighter = max if name in ("$gte", "$gt") else min
            bound = tighter(ops[name], bound)
        ops[name] = bound
    return out


def _token(p: q.Token) -> Filter:
    condition: Filter = {}
    if p.code is not None:
        condition["c"] = p.code
    if p.no_system:
        condition["s"] = None
    elif p.system is not None:
        condition["s"] = p.system
    return _element(layout.TOKENS, p.param, condition)


def _token_in(p: q.TokenIn) -> Filter:
    """One `$elemMatch` with a `$in` on the code per system (index bounds per system)."""
    by_system: dict[str, list[str]] = {}
    for system, code in p.codes:
        by_system.setdefault(system, []).append(code)
    alternatives: list[Filter] = [
        {"s": system, "c": {"$in": list(dict.fromkeys(codes))}}
        for system, codes in by_system.items()
    ]
    return _any_element(layout.TOKENS, p.param, alternatives)


def _string(p: q.String) -> Filter:
    if p.mode == "exact":
        return _element(layout.STRINGS, p.param, {"x": p.value})
    if p.mode == "contains":
        return _element(layout.STRINGS, p.param, {"v": {"$regex": re.escape(p.value)}})
    return _element(layout.STRINGS, p.param, {"v": {"$gte": p.value, "$lt": p.value + _MAX_CHAR}})


def _range(p: q.Range) -> Filter:
    bounds = _bounds(p.conditions)
    if p.kind != "quantity":
        return _element(layout.RANGES, p.param, bounds)
    if p.system is not None:
        bounds["s"] = p.system
        if p.code is not None:
            bounds["c"] = p.code
    elif p.code is not None:
        # without a system the code may be a UCUM code or the human unit
        return _any_element(
            layout.QUANTITIES, p.param, [{**bounds, "c": p.code}, {**bounds, "u": p.code}]
        )
    return _element(layout.QUANTITIES, p.param, bounds)


def _reference(p: q.Reference) -> Filter:
    alternatives: list[Filter] = []
    for target_type, target_id in p.targets:
        alternatives.append(
            {"ti": target_id} if target_type is None else {"ti": target_id, "tt": target_type}
        )
    if p.url is not None:
        alternatives.append({"u": p.url})
    return _any_element(layout.REFERENCES, p.param, alternatives)


def _uri(p: q.Uri) -> Filter:
    if p.mode == "below":
        v = p.value.rstrip("/")
        return _any_element(
            layout.URIS, p.param, [{"v": v}, {"v": {"$gte": v + "/", "$lt": v + "/" + _MAX_CHAR}}]
        )
    if p.mode == "above":
        return _element(layout.URIS, p.param, {"v": {"$in": uri_ancestors(p.value)}})
    return _element(layout.URIS, p.param, {"v": p.value})


def uri_ancestors(value: str) -> list[str]:
    """Stored uris that `:above` matches: the value itself and each path ancestor.

    An ancestor `a` matches when `value` starts with `a` (trailing slashes removed)
    followed by `/`; stored spellings with up to two trailing slashes are listed.
    """
    found = [value]
    for i, char in enumerate(value):
        if char == "/" and not value[:i].endswith("/"):
            found += [value[:i], value[:i] + "/", value[:i] + "//"]
    return list(dict.fromkeys(found))


# -- sorting and keyset paging ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SortColumn:
    """One sort key as it is read: `flag` is None for record fields that are never missing."""

    key: str  # the field (record field, or computed `_kN` for a parameter)
    flag: str | None  # the computed 0/1 "value missing" field, for parameters
    source: str | None  # the stored sort-key path the computed fields are made from
    descending: bool


def sort_columns(sort: Sequence[q.SortKey]) -> list[SortColumn]:
    columns = []
    for i, key in enumerate(sort):
        if key.param in ("_id", "_lastUpdated"):
            field = "id" if key.param == "_id" else "last_updated"
            columns.append(SortColumn(field, None, None, key.descending))
        else:
            columns.append(
                SortColumn(f"_k{i}", f"_n{i}", layout.sort_field(key.param), key.descending)
            )
    return columns


def computed_fields(columns: Sequence[SortColumn]) -> Filter:
    """`$addFields` that put resources without a sort value last in both directions."""
    fields: Filter = {}
    for c in columns:
        if c.flag is not None:
            value = {"$ifNull": ["$" + c.source, None]}
            fields[c.key] = value
            fields[c.flag] = {"$cond": [{"$eq": [value, None]}, 1, 0]}
    return fields


def sort_spec(columns: Sequence[SortColumn]) -> list[tuple[str, int]]:
    spec: list[tuple[str, int]] = []
    for c in columns:
        if c.flag is not None:
            spec.append((c.flag, 1))
        spec.append((c.key, -1 if c.descending else 1))
    spec.append(("rid", 1))
    return spec


def position_of(doc: dict[str, Any], columns: Sequence[SortColumn]) -> list[Any]:
    position: list[Any] = []
    for c in columns:
        position += [doc.get(c.flag, 0) if c.flag else 0, doc.get(c.key)]
    position.append(str(doc["rid"]))
    return position


def after_position(columns: Sequence[SortColumn], position: list[Any]) -> Filter:
    """Keyset condition: rows strictly after `position` in the `sort_spec` order."""
    if len(position) != 2 * len(columns) + 1 or not ObjectId.is_valid(position[-1]):
        raise FhirError(400, "invalid", "The paging cursor does not match this search", ["_cursor"])
    alternatives: list[Filter] = []
    equal: list[Filter] = []
    for i, c in enumerate(columns):
        flag_value, key_value = position[2 * i], position[2 * i + 1]
        if c.flag is not None:
            alternatives.append(_all([*equal, {c.flag: {"$gt": flag_value}}]))
            equal.append({c.flag: flag_value})
        if key_value is not None:
            op = "$lt" if c.descending else "$gt"
            alternatives.append(_all([*equal, {c.key: {op: key_value}}]))
        equal.append({c.key: key_value})
    alternatives.append(_all([*equal, {"rid": {"$gt": ObjectId(position[-1])}}]))
    return {"$or": alternatives}


def _all(filters: list[Filter]) -> Filter:
    return filters[0] if len(filters) == 1 else {"$and": filters}
