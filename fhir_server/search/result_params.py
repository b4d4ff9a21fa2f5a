"""Search result parameters (_sort, _count, _include, ...): what to return, not what matches."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from fhir_server.storage.query import SortKey

Summary = Literal["true", "text", "data", "count", "false"]
Total = Literal["none", "estimate", "accurate"]
Contained = Literal["false", "true", "both"]
ContainedType = Literal["container", "contained"]

SUMMARY_VALUES: tuple[str, ...] = ("true", "text", "data", "count", "false")
TOTAL_VALUES: tuple[str, ...] = ("none", "estimate", "accurate")
CONTAINED_VALUES: tuple[str, ...] = ("false", "true", "both")
CONTAINED_TYPE_VALUES: tuple[str, ...] = ("container", "contained")


@dataclass(frozen=True, slots=True)
class Include:
    """`_include=Source:param[:Target]` (or `*`); `reverse` for `_revinclude`."""

    source_type: str  # "*" for `_include=*`
    param: str  # "*" for every reference parameter of the source type
    target_type: str | None = None
    iterate: bool = False
    reverse: bool = False


@dataclass(slots=True)
class ResultParameters:
    sort: tuple[SortKey, ...] = ()
    count: int = 20
    summary: Summary | None = None
    elements: tuple[str, ...] = ()
    total: Total = "none"
    include: tuple[Include, ...] = ()
    revinclude: tuple[Include, ...] = ()
    contained: Contained = "false"
    contained_type: ContainedType = "container"
    cursor: str | None = None  # `_cursor`: opaque keyset position from a `next` link
    extra: dict[str, str] = field(default_factory=dict)  # other accepted params (_format...)
