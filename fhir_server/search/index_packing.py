"""A ResourceIndex as plain tuples, to cross a process boundary cheaply.

Pickling slotted dataclasses goes through `__reduce_ex__` per object; plain tuples of
str/float pickle several times faster, and a Synthea resource has dozens of index values.
"""

from __future__ import annotations

from typing import Any

from fhir_server.storage.records import (
    CompositeValue,
    QuantityValue,
    RangeValue,
    ReferenceValue,
    ResourceIndex,
    SortValue,
    StringValue,
    TokenValue,
    UriValue,
)

Packed = tuple[list[tuple[Any, ...]], ...]


def pack(index: ResourceIndex) -> Packed:
    return (
        [(t.param, t.system, t.code, t.text) for t in index.tokens],
        [(s.param, s.value, s.exact) for s in index.strings],
        [(r.param, r.low, r.high) for r in index.ranges],
        [(q.param, q.system, q.code, q.unit, q.low, q.high) for q in index.quantities],
        [(r.param, r.target_type, r.target_id, r.url) for r in index.references],
        [(u.param, u.value) for u in index.uris],
        [(c.param, c.keys, c.low, c.high) for c in index.composites],
        [(s.param, s.key) for s in index.sorts],
        [(patient,) for patient in index.compartments],
    )


def unpack_into(index: ResourceIndex, packed: Packed) -> None:
    """Fill `index` (already handed to a pending write) with the packed values."""
    tokens, strings, ranges, quantities, references, uris, composites, sorts, patients = packed
    index.tokens = [TokenValue(*v) for v in tokens]
    index.strings = [StringValue(*v) for v in strings]
    index.ranges = [RangeValue(*v) for v in ranges]
    index.quantities = [QuantityValue(*v) for v in quantities]
    index.references = [ReferenceValue(*v) for v in references]
    index.uris = [UriValue(*v) for v in uris]
    index.composites = [CompositeValue(*v) for v in composites]
    index.sorts = [SortValue(*v) for v in sorts]
    index.compartments = [v[0] for v in patients]
