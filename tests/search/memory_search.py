"""A tiny in-memory evaluator of the query IR over extracted indexes (tests only).

It states the IR semantics the adapters must implement, in the simplest way: a predicate
holds for a resource when some index value of its parameter satisfies it; a missing
range bound (None) is -inf below and +inf above.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from fhir_server.instants import to_micros
from fhir_server.search.index import IndexExtractor
from fhir_server.storage.query import (
    And,
    Composite,
    IdIn,
    InCompartment,
    LastUpdated,
    Missing,
    Not,
    Nothing,
    Or,
    Predicate,
    Range,
    Reference,
    String,
    Token,
    TokenText,
    Uri,
)
from fhir_server.storage.records import ResourceIndex

_OPS = {">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt}


def _holds(conditions: tuple, low: float | None, high: float | None) -> bool:
    values = {"low": -math.inf if low is None else low, "high": math.inf if high is None else high}
    return all(_OPS[op](values[f], bound) for f, op, bound in conditions)


@dataclass
class Entry:
    type: str
    id: str
    index: ResourceIndex
    last_updated_us: int
    resource: dict


@dataclass
class MemorySearch:
    """Indexes resources with a real IndexExtractor and answers IR predicates."""

    extractor: IndexExtractor
    entries: dict[tuple[str, str], Entry] = field(default_factory=dict)

    def add(self, resource: dict, last_updated: datetime | None = None) -> None:
        moment = last_updated or datetime(2024, 1, 1, tzinfo=UTC)
        key = (resource["resourceType"], resource["id"])
        self.entries[key] = Entry(
            key[0], key[1], self.extractor.extract(resource), to_micros(moment), resource
        )

    # -- the SubSearch protocol -------------------------------------------------------

    def match_keys(self, types: Sequence[str], where: Predicate | None) -> list[tuple[str, str]]:
        return [
            (e.type, e.id)
            for e in self.entries.values()
            if (not types or e.type in types) and (where is None or self.matches(e, where))
        ]

    def referenced_keys(
        self, types: Sequence[str], where: Predicate | None, param: str
    ) -> list[tuple[str, str]]:
        out = []
        for key in self.match_keys(types, where):
            for ref in self.entries[key].index.references:
                if ref.param == param and ref.target_type and ref.target_id:
                    out.append((ref.target_type, ref.target_id))
        return out

    def search(self, types: Sequence[str], where: Predicate | None) -> set[str]:
        return {i for _, i in self.match_keys(types, where)}

    # -- evaluation ---------------------------------------------------------------------

    def matches(self, e: Entry, p: Predicate) -> bool:
        ix = e.index
        if isinstance(p, And):
            return all(self.matches(e, q) for q in p.predicates)
        if isinstance(p, Or):
            return any(self.matches(e, q) for q in p.predicates)
        if isinstance(p, Not):
            return not self.matches(e, p.predicate)
        if isinstance(p, Nothing):
            return False
        if isinstance(p, IdIn):
            return e.id in p.ids and (p.type is None or e.type == p.type)
        if isinstance(p, LastUpdated):
            return _holds(p.conditions, e.last_updated_us, e.last_updated_us)
        if isinstance(p, InCompartment):
            return any(c in p.patient_ids for c in ix.compartments)
        if isinstance(p, Token):
            return any(
                t.param == p.param
                and (p.code is None or t.code == p.code)
                and (t.system is None if p.no_system else p.system is None or t.system == p.system)
                for t in ix.tokens
            )
        if isinstance(p, TokenText):
            return any(
                t.param == p.param and t.text is not None and _word_prefix(t.text, p.text)
                for t in ix.tokens
            )
        if isinstance(p, String):
            for s in ix.strings:
                if s.param != p.param:
                    continue
                if p.mode == "exact" and s.exact == p.value:
                    return True
                if p.mode == "start" and s.value.startswith(p.value):
                    return True
                if p.mode == "contains" and p.value in s.value:
                    return True
            return False
        if isinstance(p, Range):
            if p.kind == "quantity":
                return any(
                    q.param == p.param
                    and (p.system is None or q.system == p.system)
                    and (
                        p.code is None or p.code in (q.code, q.unit)
                        if p.system is None
                        else q.code == p.code
                    )
                    and _holds(p.conditions, q.low, q.high)
                    for q in ix.quantities
                )
            return any(
                r.param == p.param and _holds(p.conditions, r.low, r.high) for r in ix.ranges
            )
        if isinstance(p, Reference):
            for r in ix.references:
                if r.param != p.param:
                    continue
                if p.url is not None and r.url == p.url:
                    return True
                for t, i in p.targets:
                    if r.target_id == i and (t is None or r.target_type == t):
                        return True
            return False
        if isinstance(p, Uri):
            for u in ix.uris:
                if u.param != p.param:
                    continue
                if p.mode == "eq" and u.value == p.value:
                    return True
                if p.mode == "below" and u.value.startswith(p.value):
                    return True
                if p.mode == "above" and p.value.startswith(u.value):
                    return True
            return False
        if isinstance(p, Composite):
            return any(
                c.param == p.param and c.keys == p.keys and _holds(p.conditions, c.low, c.high)
                for c in ix.composites
            )
        if isinstance(p, Missing):
            lists = {
                "token": ix.tokens,
                "string": ix.strings,
                "range": ix.ranges,
                "quantity": ix.quantities,
                "reference": ix.references,
                "uri": ix.uris,
                "composite": ix.composites,
            }
            present = any(v.param == p.param for v in lists[p.kind])
            return present != p.missing
        raise TypeError(f"unknown predicate {p!r}")


def _word_prefix(stored: str, query: str) -> bool:
    words = stored.split(" ")
    return any(" ".join(words[i:]).startswith(query) for i in range(len(words)))
