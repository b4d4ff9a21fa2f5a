"""Worker processes for the bulk write paths (big bundles, import): validation.

Validation with the fhir.resources models is the floor on writes (≈ 150 µs per Synthea
resource, in Python validators, so threads cannot share it). For a big Bundle it runs in
worker processes while the server process resolves ids and references, indexes and
writes; the outcome is checked before the commit. A chunk crosses the process boundary
as one orjson document and only failures come back. Small jobs run in-process: the round
trip would cost more than it saves.

Index extraction stays in the server process: done in the workers (the stamped version
sent over, the index sent back as plain tuples) it cost the workers ≈ 110 µs per resource
in pickling and copying and saved the server process nothing measurable, and Bundles
loaded ≈ 20 % slower (benchmarks/ingest.py, 2 cores).

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
from fhir_server.validation.resource import ResourceValidator, warm_up

log = logging.getLogger("fhir_server.bulk_workers")

# (caller's number for the resource, e.g. its Bundle entry index; the resource)
Item = tuple[int, dict[str, Any]]

_worker_validator: ResourceValidator | None = None


def _init_worker(schema_on_write: bool) -> None:
    global _worker_validator
    warm_up()  # importing the model classes once per worker, not on its first chunk
    _worker_validator = ResourceValidator(schema_on_write=schema_on_write)


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


class BulkWorkers:
    """A process pool (started on first use) for big validation jobs."""

    def __init__(self, validator: ResourceValidator, workers: int, min_parallel: int = 200) -> None:
        self.validator = validator
        self.workers = workers
        self.min_parallel = min_parallel
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def _submit(self, fn: Callable[[bytes], Any], payload: bytes) -> Future:
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
            future = self._submit(_validate_chunk, payload)
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
                    initargs=(self.validator.schema_on_write,),
                )
            return self._pool

    def _reset(self, wait: bool = False) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=wait, cancel_futures=True)

    def close(self) -> None:
        self._reset(wait=True)
