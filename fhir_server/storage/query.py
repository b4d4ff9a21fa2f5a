"""The search query IR: what `fhir_server.search.query` produces and adapters translate.

Predicates name index values by parameter code; the parser has already resolved FHIR
semantics (prefixes to bound conditions, chains to reference targets, modifiers), so an
adapter only maps each predicate onto its own index layout.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

RangeField = Literal["low", "high"]
Comparison = Literal[">=", ">", "<=", "<"]


@dataclass(frozen=True, slots=True)
class Token:
    """Token match. `system=None` means any system unless `no_system` (the `|code` form)."""

    param: str
    code: str | None = None  # None = any code (the `system|` form)
    system: str | None = None
    no_system: bool = False


@dataclass(frozen=True, slots=True)
class TokenIn:
    """Token match against a set of (system, code) pairs, e.g. a ValueSet expansion.

    One predicate instead of an Or of Tokens: expansions run to thousands of codes,
    which adapters render as one IN list per system.
    """

    param: str
    codes: tuple[tuple[str, str], ...]  # (system, code)


@dataclass(frozen=True, slots=True)
class TokenText:
    param: str
    text: str  # normalised; matches a prefix of any word of the stored text


@dataclass(frozen=True, slots=True)
class String:
    param: str
    value: str  # normalised for start/contains, as written for exact
    mode: Literal["start", "exact", "contains"] = "start"


@dataclass(frozen=True, slots=True)
class Range:
    """All `conditions` hold on one stored range value: ((field, op, bound), ...).

    For quantities `system`/`code` also constrain the same value.
    """

    param: str
    conditions: tuple[tuple[RangeField, Comparison, float], ...]
    kind: Literal["range", "quantity"] = "range"
    system: str | None = None
    code: str | None = None


@dataclass(frozen=True, slots=True)
class Reference:
    """Reference to any of `targets` ((type or None, id)), or to the absolute `url`."""

    param: str
    targets: tuple[tuple[str | None, str], ...] = ()
    url: str | None = None


@dataclass(frozen=True, slots=True)
class Uri:
    param: str
    value: str
    mode: Literal["eq", "above", "below"] = "eq"


@dataclass(frozen=True, slots=True)
class Composite:
    param: str
    keys: tuple[str, ...]
    conditions: tuple[tuple[RangeField, Comparison, float], ...] = ()


IndexKind = Literal["token", "string", "range", "quantity", "reference", "uri", "composite"]


@dataclass(frozen=True, slots=True)
class Missing:
    param: str
    kind: IndexKind
    missing: bool


@dataclass(frozen=True, slots=True)
class IdIn:
    ids: tuple[str, ...]
    type: str | None = None  # only resources of this type (a system search's `_list`)


@dataclass(frozen=True, slots=True)
class LastUpdated:
    conditions: tuple[tuple[RangeField, Comparison, float], ...]  # epoch microseconds


@dataclass(frozen=True, slots=True)
class InCompartment:
    patient_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Not:
    predicate: Predicate


@dataclass(frozen=True, slots=True)
class Or:
    predicates: tuple[Predicate, ...]


@dataclass(frozen=True, slots=True)
class And:
    predicates: tuple[Predicate, ...]


@dataclass(frozen=True, slots=True)
class Nothing:
    """Matches no resource (e.g. a chain whose sub-search found nothing)."""


Predicate = (
    Token
    | TokenIn
    | TokenText
    | String
    | Range
    | Reference
    | Uri
    | Composite
    | Missing
    | IdIn
    | LastUpdated
    | InCompartment
    | Not
    | Or
    | And
    | Nothing
)


@dataclass(frozen=True, slots=True)
class SortKey:
    param: str  # a sortable parameter code, or "_id" / "_lastUpdated"
    descending: bool = False


@dataclass(frozen=True, slots=True)
class SearchQuery:
    types: tuple[str, ...]  # empty = every type (system-level search)
    where: Predicate | None = None
    sort: tuple[SortKey, ...] = ()
    count: int = 20
    cursor: str | None = None  # opaque keyset position from a previous page
    total: Literal["none", "estimate", "accurate"] = "none"


@dataclass(slots=True)
class SearchPage:
    records: list = field(default_factory=list)  # list[StoredRecord]
    next_cursor: str | None = None
    total: int | None = None
