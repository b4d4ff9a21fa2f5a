"""`fhir-server import --workers N`: the files after the information bundles load in N
processes, each with its own store connection, through the same `import_paths`.

Information bundles (see bulk_import) load first, in this process, because the others
reference them conditionally (the workers start up meanwhile). Every other file then goes
to a worker process, biggest first so that the last one to finish is a small one; SQLite
lets the processes prepare their Bundles side by side and takes turns only to write
(rest/transaction.py, `speculate`). Without `--continue-on-error`, the first failure
stops the files not yet started; files already loading finish.
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from pathlib import Path

from fhir_server.bulk_import import (
    ImportSummary,
    Progress,
    discover,
    import_paths,
    is_information,
)
from fhir_server.rest.context import ServerContext

# below this many files, starting worker processes (≈ 3 s each: imports, the compiled
# schema) costs more than they save
AUTO_PARALLEL_FROM_FILES = 16

_worker_ctx: ServerContext | None = None


def workers_for(requested: int | None, files: int, cpus: int) -> int:
    """How many processes load the files: as asked, or all CPUs for a big import."""
    if requested is not None:
        return max(1, requested)
    return cpus if files >= AUTO_PARALLEL_FROM_FILES else 1


def _init_worker(store: str) -> None:
    global _worker_ctx
    from fhir_server.api.app import build_context
    from fhir_server.settings import load_settings
    from fhir_server.validation.compiled import compiled_validator

    _worker_ctx = build_context(load_settings(store=store))
    compiled_validator()


def _ready() -> None:
    """A no-op task: returns once the worker has started up."""


def _load_file(path: str, continue_on_error: bool) -> ImportSummary:
    assert _worker_ctx is not None
    return import_paths(_worker_ctx, [Path(path)], continue_on_error=continue_on_error)


def _add(total: ImportSummary, part: ImportSummary) -> None:
    total.files += part.files
    total.resources += part.resources
    total.created += part.created
    total.updated += part.updated
    total.failures += part.failures


def import_in_parallel(
    ctx: ServerContext,
    paths: Sequence[Path],
    workers: int,
    *,
    continue_on_error: bool = False,
    progress: Progress | None = None,
) -> ImportSummary:
    files = discover(paths)
    first = [p for p in files if is_information(p)]
    rest = [p for p in files if not is_information(p)]
    started = time.perf_counter()
    spawn = multiprocessing.get_context("spawn")  # the server code runs threads: no fork
    with ProcessPoolExecutor(
        workers, mp_context=spawn, initializer=_init_worker, initargs=(ctx.settings.store,)
    ) as pool:
        # the workers start up (imports, the compiled schema) while this process loads
        # the information bundles
        warm = [pool.submit(_ready) for _ in range(workers)]
        summary = import_paths(ctx, first, continue_on_error=continue_on_error, progress=progress)
        if (summary.failures and not continue_on_error) or not rest:
            for future in warm:
                future.cancel()
            summary.seconds = time.perf_counter() - started
            return summary
        # biggest files first, so that no worker is left with a big one at the end
        rest.sort(key=lambda path: path.stat().st_size, reverse=True)
        pending: set[Future[ImportSummary]] = {
            pool.submit(_load_file, str(path), continue_on_error) for path in rest
        }
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                part = future.result()
                _add(summary, part)
                summary.seconds = time.perf_counter() - started
                if progress:
                    progress(summary, "")
            if summary.failures and not continue_on_error:
                for future in pending:
                    future.cancel()
                pending = {f for f in pending if not f.cancelled()}
    summary.seconds = time.perf_counter() - started
    return summary
