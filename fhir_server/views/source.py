"""The resources a view reads, streamed from the store.

Without filters every current resource of the type comes from `Store.iter_current` (one
ordered scan, no paging cost). With `patient` or `_since` the store's search does the
filtering (Patient compartment and `_lastUpdated` index) and is paged by its keyset
cursor, so neither path holds more than one page of bodies in memory.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import orjson

from fhir_server.storage.base import Store
from fhir_server.storage.query import And, InCompartment, LastUpdated, Predicate, SearchQuery

PAGE = 1000


@dataclass(frozen=True, slots=True)
class SourceFilter:
    patient_ids: tuple[str, ...] = ()  # resources in these Patients' compartments
    since_micros: int | None = None  # last updated at or after (epoch microseconds)

    @property
    def empty(self) -> bool:
        return not self.patient_ids and self.since_micros is None


def resources(store: Store, type_: str, where: SourceFilter) -> Iterator[dict]:
    """Current resources of `type_` that pass `where`, parsed, in store order."""
    if where.empty:
        for record in store.iter_current(type_):
            yield orjson.loads(record.body)
        return
    parts: list[Predicate] = []
    if where.patient_ids:
        parts.append(InCompartment(where.patient_ids))
    if where.since_micros is not None:
        parts.append(LastUpdated((("low", ">=", where.since_micros),)))
    query = SearchQuery(types=(type_,), where=And(tuple(parts)), count=PAGE)
    while True:
        with store.session() as session:
            page = session.search(query)
        for record in page.records:
            yield orjson.loads(record.body)
        if page.next_cursor is None:
            return
        query = SearchQuery(types=(type_,), where=query.where, count=PAGE, cursor=page.next_cursor)
