"""Worker processes for the bulk write paths (big bundles, import): validation and indexing.

Validation with the fhir.resources models is the floor on writes (≈ 150 µs per Synthea
resource, in Python validators, so threads cannot share it) and index extraction adds
≈ 40 µs. For a big Bundle both run in worker processes while the server process resolves
ids and references, stamps and writes: validation starts on the resources as received
and its outcome is checked before the commit; index extraction runs on each version as
it will be stored, and the index is filled in just before the store write. A chunk crosses
the process boundary as one orjson document; validation sends back only failures and
indexing sends plain tuples (`index_packing`). Small jobs run in-process: the round trip
would cost more than it saves.

Workers are spawned (the server process runs threads, which fork does not mix with), so
a script that embeds the server must guard its entry point with
`if __name__ == "__main__":`, as for any use of multiprocessing; a pool that cannot
start falls back to in-process work.
"""

from __future__ import annotations

import logging
import multiprocessing
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

import orjson

from fhir_server.errors import FhirError, Issue
from fhir_server.search.index import IndexExtractor
from fhir_server.search.index_packing import Packed, pack, unpack_into
from fhir_server.search.registry import SearchParameterRegistry
from fhir_server.storage.records import ResourceIndex
from fhir_server.validation.resource import ResourceValidator, warm_up

log = logging.getLogger("fhir_server.bulk_workers")

# (caller's number for the resource, e.g. its Bundle entry index; the resource)
Item = tuple[int, dict[str, Any]]

_worker_validator: ResourceValidator | None = None
_worker_indexer: IndexExtractor | None = None


def _init_worker(schema_on_write: bool, timezone: str, base_urls: tuple[str, ...]) -> None:
    global _worker_validator, _worker_indexer
    warm_up()  # importing the model classes once per worker, not on its first chunk
    _worker_validator = ResourceValidator(schema_on_write=schema_on_write)
    _worker_indexer = IndexExtractor(SearchParameterRegistry.load_default(), timezone, base_urls)


def _failures_in(validator: ResourceValidator, payload: bytes) -> list[tuple[int, list[Issue]]]:
    failures = []
    for position, resource in enumerate(orjson.loads(payload)):
        issues = validator.issues(resource)
        if issues:
            failures.append((position, issues))
    return failures


def _validate_chunk(payload: bytes) -> list[tuple[int, list[Issue]]]:
    """(position in the chunk, issues) of every invalid resource of the chunk (in a worker)."""
    assert _worker_validator is not None
    return _failures_in(_worker_validator, payload)


def _index_chunk(payload: bytes) -> list[Packed]:
    """The packed index of every resource of the chunk (in a worker)."""
    assert _worker_indexer is not None
    return [pack(_worker_indexer.extract(resource)) for resource in orjson.loads(payload)]


@dataclass
class _Chunk:
    numbers: list[int]  # the caller's number of each resource in the chunk
    payload: bytes  # the resources, as one JSON array
    future: Future


class ValidationJob:
    """The outcome of validating a set of resources, ready now or from worker processes."""

    def __init__(
        self,
        validator: ResourceValidator,
        failures: dict[int, list[Issue]] | None = None,
        pending: Sequence[_Chunk] = (),
    ) -> None:
        self._validator = validator
        self._failures = failures or {}
        self._pending = list(pending)

    @property
    def ready(self) -> bool:
        return not self._pending

    def failures(self) -> dict[int, list[Issue]]:
        """Issues by the caller's number, for every invalid resource (waits for workers)."""
        while self._pending:
            chunk = self._pending.pop(0)
            try:
                found = chunk.future.result()
            except BrokenProcessPool:
                # a worker died (or could not start): the verdict must not depend on it
                log.warning("a validation worker failed; validating its chunk in-process")
                found = _failures_in(self._validator, chunk.payload)
            for position, issues in found:
                self._failures[chunk.numbers[position]] = issues
        return self._failures

    def raise_first(self, name: Callable[[int, FhirError], FhirError] | None = None) -> None:
        """Raise the validation error of the lowest-numbered invalid resource, if any.

        `name(number, error)` may rewrite the error (e.g. to name the Bundle entry).
        """
        failures = self.failures()
        if not failures:
            return
        number = min(failures)
        error = FhirError(400, "invalid", "", issues=failures[number])
        raise (name(number, error) if name else error)

    def cancel(self) -> None:
        for chunk in self._pending:
            chunk.future.cancel()


class DeferredIndexes:
    """Stands in for the IndexExtractor during one Bundle: `extract` hands back an empty
    ResourceIndex at once and the workers compute it; `fill()` (called before the store
    write) waits and fills every handed-out index in place."""

    def __init__(self, workers: BulkWorkers, indexer: IndexExtractor, chunk: int = 250) -> None:
        self._workers = workers
        self._indexer = indexer  # for everything but extract, and when a worker fails
        self._chunk = chunk
        self._waiting: list[tuple[bytes, ResourceIndex]] = []
        self._pending: list[tuple[list[ResourceIndex], bytes, Future]] = []

    def extract(self, resource: dict[str, Any]) -> ResourceIndex:
        index = ResourceIndex()
        self._waiting.append((orjson.dumps(resource), index))
        if len(self._waiting) >= self._chunk:
            self._submit()
        return index

    def _submit(self) -> None:
        if not self._waiting:
            return
        indexes = [index for _, index in self._waiting]
        payload = b"[" + b",".join(body for body, _ in self._waiting) + b"]"
        self._waiting = []
        self._pending.append((indexes, payload, self._workers.submit(_index_chunk, payload)))

    def fill(self) -> None:
        self._submit()
        while self._pending:
            indexes, payload, future = self._pending.pop(0)
            try:
                packed = future.result()
            except BrokenProcessPool:
                log.warning("an index worker failed; indexing its chunk in-process")
                packed = [pack(self._indexer.extract(r)) for r in orjson.loads(payload)]
            for index, values in zip(indexes, packed, strict=True):
                unpack_into(index, values)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._indexer, name)  # e.g. `references`, used by `_has`


class BulkWorkers:
    """A process pool (started on first use) for big validation and indexing jobs."""

    def __init__(
        self,
        validator: ResourceValidator,
        registry: SearchParameterRegistry,
        workers: int,
        *,
        timezone: str = "UTC",
        base_urls: tuple[str, ...] = (),
        min_parallel: int = 200,
    ) -> None:
        self.validator = validator
        self.registry = registry
        # workers load the official parameters: runtime ones (a later version) index here
        self._official_version = registry.version
        self.workers = workers
        self.min_parallel = min_parallel
        self._initargs = (validator.schema_on_write, timezone, tuple(base_urls))
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def indexes_for(self, entries: int, indexer: IndexExtractor) -> DeferredIndexes | None:
        """A deferred indexer for a Bundle of `entries`, or None to index in-process."""
        if self.workers < 1 or entries < self.min_parallel:
            return None
        if self.registry.version != self._official_version:
            return None
        return DeferredIndexes(self, indexer)

    def submit(self, fn: Callable[[bytes], Any], payload: bytes) -> Future:
        try:
            return self._executor().submit(fn, payload)
        except BrokenProcessPool:
            log.warning("the worker pool broke; starting a new one")
            self._reset()
            return self._executor().submit(fn, payload)

    def start(self, items: Sequence[Item]) -> ValidationJob:
        """Validate `items` (in workers when there are many); the job reports failures."""
        if self.workers < 1 or len(items) < self.min_parallel:
            return self.in_process(items)
        # several chunks per worker even out the resources' very unequal costs
        size = max(50, min(500, len(items) // (self.workers * 4) or 1))
        pending: list[_Chunk] = []
        for start in range(0, len(items), size):
            chunk = items[start : start + size]
            payload = orjson.dumps([resource for _, resource in chunk])
            future = self.submit(_validate_chunk, payload)
            pending.append(_Chunk([n for n, _ in chunk], payload, future))
        return ValidationJob(self.validator, pending=pending)

    def in_process(self, items: Sequence[Item]) -> ValidationJob:
        failures = {}
        for number, resource in items:
            issues = self.validator.issues(resource)
            if issues:
                failures[number] = issues
        return ValidationJob(self.validator, failures)

    def _executor(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                # spawn, not fork: the server process runs threads (uvicorn, the store)
                self._pool = ProcessPoolExecutor(
                    self.workers,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_init_worker,
                    initargs=self._initargs,
                )
            return self._pool

    def _reset(self, wait: bool = False) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=wait, cancel_futures=True)

    def close(self) -> None:
        self._reset(wait=True)
