"""Batching concepts into the concept store, with progress reports."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from fhir_server.storage.terminology_base import StoredConcept, TerminologyStore
from fhir_server.terminology.words import concept_words

BATCH = 5000
Progress = Callable[[str, int], None]  # (phase, concepts so far)


@dataclass(frozen=True)
class LoadResult:
    url: str
    version: str | None
    concepts: int


def concept(
    code: str,
    display: str | None,
    designations: tuple[tuple[str, str, str], ...] = (),
    properties: tuple[tuple[str, str], ...] = (),
    parents: tuple[str, ...] = (),
) -> StoredConcept:
    return StoredConcept(
        code=code,
        display=display,
        designations=designations,
        properties=properties,
        parents=parents,
        words=concept_words(display, (d[2] for d in designations)),
    )


def load_system(
    store: TerminologyStore,
    url: str,
    version: str | None,
    name: str | None,
    concepts: Iterable[StoredConcept],
    progress: Progress | None = None,
) -> LoadResult:
    """Replace `url` in the store with `concepts`, in batches, then build its closure."""
    store.begin_system(url, version, name)
    batch: list[StoredConcept] = []
    done = 0
    for item in concepts:
        batch.append(item)
        if len(batch) >= BATCH:
            store.put_concepts(url, batch)
            done += len(batch)
            batch = []
            if progress:
                progress("concepts", done)
    if batch:
        store.put_concepts(url, batch)
        done += len(batch)
    if progress:
        progress("concepts", done)
        progress("hierarchy", done)
    count = store.finish_system(url)
    if progress:
        progress("done", count)
    return LoadResult(url, version, count)
