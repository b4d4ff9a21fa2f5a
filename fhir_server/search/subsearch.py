"""Sub-searches for chains and `_has`, run through the storage port.

The parser asks two questions of the store: which resources match a predicate
(`match_keys`), and which resources are *referenced* through a parameter by the resources
that match (`referenced_keys`, for `_has`); both are answered from the index by the
adapter.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from fhir_server.search.index import IndexExtractor
from fhir_server.storage.base import StoreSession
from fhir_server.storage.query import Predicate

Key = tuple[str, str]


class SubSearch(Protocol):
    def match_keys(self, types: Sequence[str], where: Predicate | None) -> list[Key]: ...

    def referenced_keys(
        self, types: Sequence[str], where: Predicate | None, param: str
    ) -> list[Key]: ...


class SessionSubSearch:
    """`SubSearch` over a store session (read-only use)."""

    def __init__(self, session: StoreSession, extractor: IndexExtractor) -> None:
        self.session = session
        self.extractor = extractor

    def match_keys(self, types: Sequence[str], where: Predicate | None) -> list[Key]:
        return self.session.match_keys(types, where)

    def referenced_keys(
        self, types: Sequence[str], where: Predicate | None, param: str
    ) -> list[Key]:
        # the reference index already holds the targets: no resource is re-read
        return self.session.referenced_keys(types, where, param)
