"""The terminology storage port: a concept store for code systems too big to hold as JSON.

A CodeSystem with a few hundred concepts is a resource and lives in memory; LOINC
(~100k concepts), SNOMED CT (~350k) or a full ICD-10 are loaded by `fhir-server
terminology load` into this store instead, one row/document per concept, with:

- a normalised-word index over display and designations, so a type-ahead filter
  ("diab mel") is a few index range scans, never a scan of the system;
- the is-a *closure* (every (ancestor, descendant) pair, self included), so
  subsumption, descendants and "is-a X and matches the filter" are index look-ups.

One version of each system is held; loading a system again replaces it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True, slots=True)
class StoredConcept:
    code: str
    display: str | None = None
    # (language, use code or "", value)
    designations: tuple[tuple[str, str, str], ...] = ()
    # (property code, value as text)
    properties: tuple[tuple[str, str], ...] = ()
    parents: tuple[str, ...] = ()
    # normalised words of display and designations (the caller normalises: storage
    # knows no language rules)
    words: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class StoredSystem:
    url: str
    version: str | None
    name: str | None
    count: int


@dataclass(slots=True)
class ConceptPage:
    concepts: list[StoredConcept] = field(default_factory=list)
    total: int = 0


class TerminologyStore(Protocol):
    def systems(self) -> list[StoredSystem]:
        """The loaded systems (few): the service asks once per refresh."""

    def begin_system(self, url: str, version: str | None, name: str | None) -> None:
        """Start (re)loading `url`: its old concepts are removed."""

    def put_concepts(self, url: str, concepts: Sequence[StoredConcept]) -> None:
        """Add a batch of concepts (with designations and parent links) to `url`."""

    def finish_system(self, url: str) -> int:
        """Build the is-a closure and word index of `url`; returns its concept count."""

    def drop_system(self, url: str) -> None: ...

    def lookup(self, url: str, code: str) -> StoredConcept | None: ...

    def lookup_many(self, url: str, codes: Iterable[str]) -> dict[str, StoredConcept]: ...

    def subsumes(self, url: str, ancestor: str, descendant: str) -> bool:
        """True when `descendant` is `ancestor` or is-a it, transitively."""

    def descendants(self, url: str, code: str, limit: int | None = None) -> list[str]:
        """`code` and everything below it."""

    def ancestors(self, url: str, code: str) -> list[str]:
        """`code` and everything above it."""

    def count_below(self, url: str, code: str | None) -> int:
        """Concepts at or below `code` (None: the whole system)."""

    def search(
        self,
        url: str,
        words: Sequence[str],
        below: str | None = None,
        offset: int = 0,
        count: int = 20,
    ) -> ConceptPage:
        """Concepts whose display or a designation has a word starting with each of
        `words` (normalised), optionally at or below `below`; shortest display first."""
