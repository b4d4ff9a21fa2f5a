"""What a store keeps: the stored record and the search index computed at write time.

Both adapters keep the same shape (see docs/storage.md). Index values are produced by
`fhir_server.search.index.IndexExtractor`; adapters only persist and query them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class StoredRecord:
    """One version of one resource.

    `body` is the JSON exactly as served (meta.versionId / meta.lastUpdated set), or
    empty for a deletion tombstone.
    """

    type: str
    id: str
    version: int
    last_updated: datetime  # UTC, aware
    deleted: bool
    body: bytes
    method: str = "PUT"  # the interaction that made this version: POST | PUT | PATCH | DELETE


# Index values are plain (not frozen) slotted dataclasses: the extractor builds dozens per
# resource on the write path and frozen construction costs several times more.
# A range bound of None means unbounded (-inf for low, +inf for high).


@dataclass(slots=True)
class TokenValue:
    param: str
    system: str | None
    code: str | None
    text: str | None = None  # normalised display / text, for :text


@dataclass(slots=True)
class StringValue:
    param: str
    value: str  # normalised: casefolded, accents stripped, other scripts kept
    exact: str  # as written, for :exact


@dataclass(slots=True)
class RangeValue:
    """date (epoch microseconds, inclusive bounds) or number (float) as [low, high]."""

    param: str
    low: float | None  # None = unbounded below
    high: float | None  # None = unbounded above


@dataclass(slots=True)
class QuantityValue:
    param: str
    system: str | None
    code: str | None
    unit: str | None
    low: float
    high: float


@dataclass(slots=True)
class ReferenceValue:
    """A local reference (target_type, target_id) or an absolute/canonical `url`."""

    param: str
    target_type: str | None
    target_id: str | None
    url: str | None = None


@dataclass(slots=True)
class UriValue:
    param: str
    value: str


@dataclass(slots=True)
class CompositeValue:
    """One composite parameter value: component keys in definition order.

    Each component is a canonical string (token `system|code`, or a number/quantity
    rendered by the extractor); range components keep (low, high) for prefix matching.
    """

    param: str
    keys: tuple[str, ...]
    low: float | None = None
    high: float | None = None


@dataclass(slots=True)
class SortValue:
    param: str
    key: str | float


@dataclass(slots=True)
class ResourceIndex:
    tokens: list[TokenValue] = field(default_factory=list)
    strings: list[StringValue] = field(default_factory=list)
    ranges: list[RangeValue] = field(default_factory=list)
    quantities: list[QuantityValue] = field(default_factory=list)
    references: list[ReferenceValue] = field(default_factory=list)
    uris: list[UriValue] = field(default_factory=list)
    composites: list[CompositeValue] = field(default_factory=list)
    sorts: list[SortValue] = field(default_factory=list)
    compartments: list[str] = field(default_factory=list)  # Patient ids


@dataclass(slots=True)
class Write:
    """A new version to persist atomically with its index (None for a tombstone)."""

    record: StoredRecord
    index: ResourceIndex | None
    expected_version: int | None  # current version the caller read; 0 = must not exist
