"""Background $export jobs whose state lives in the shared export folder.

A job runs in a thread of the process that accepted the kick-off, but everything a poll
needs is on disk (`files.STATE`, `files.MANIFEST`), so any worker process sharing the
folder answers status requests, file downloads and DELETE. The state file is replaced
atomically; a ticker thread rewrites the heartbeat of this process's jobs every few
seconds. The manifest is written, atomically, only after every NDJSON file is complete
and on disk, and only then is the state set to `completed`.

Crash behaviour (docs/bulk-export.md): a job still `in-progress` whose heartbeat is older
than `stale_after_seconds` belongs to a worker that died. It is reported failed (500 with
an OperationOutcome on its status URL) and never resumed: its partial files are not
listed anywhere and are removed with the job when it expires. Expired jobs (finished more
than `export_retention_seconds` ago) are removed by a sweep at start-up, at most once a
minute on kick-off/poll, and from the ticker.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fhir_server.bulk_export import files
from fhir_server.bulk_export.writer import (
    ExportCancelled,
    OutputFile,
    Progress,
    manifest,
    write_ndjson,
)
from fhir_server.errors import FhirError
from fhir_server.instants import fhir_instant, now_utc
from fhir_server.rest.subsetting import subset
from fhir_server.security.acting import current_principal
from fhir_server.settings import Settings
from fhir_server.storage.base import ExportSelection, Store
from fhir_server.storage.records import StoredRecord

log = logging.getLogger("fhir_server.bulk_export")

IN_PROGRESS, COMPLETED, FAILED = "in-progress", "completed", "failed"
SWEEP_EVERY_SECONDS = 60.0


def requires_access_token(settings: Settings) -> bool:
    """`requiresAccessToken` of manifests: the files are served under /fhir, behind the
    same authentication as every FHIR request once it is switched on."""
    return settings.export_requires_access_token or getattr(settings, "auth", "off") != "off"


@dataclass(frozen=True, slots=True)
class ExportPlan:
    selections: list[ExportSelection]
    request_url: str  # the kick-off request, echoed in the manifest
    base_url: str  # FHIR base the file URLs are made from
    owner: str | None = None  # the client that started it: only it may poll and download
    # `_elements`: the elements each type keeps (None: whole resources, streamed as stored)
    elements_for: Callable[[str], list[str] | None] | None = None


@dataclass(slots=True)
class JobStatus:
    state: str  # in-progress | completed | failed
    processed: int = 0
    current_type: str = ""
    manifest: bytes | None = None
    error: str | None = None


@dataclass
class _LocalJob:
    id: str
    folder: Path
    state: dict[str, Any]
    progress: Progress = field(default_factory=Progress)
    cancel: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)


class ExportJobs:
    def __init__(
        self,
        store: Store,
        settings: Settings,
        heartbeat_seconds: float = 2.0,
        stale_after_seconds: float = 30.0,
    ) -> None:
        self.store = store
        self.settings = settings
        self.root = Path(settings.export_dir).resolve()
        self.heartbeat_seconds = heartbeat_seconds
        self.stale_after_seconds = stale_after_seconds
        self._local: dict[str, _LocalJob] = {}
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None
        self._swept_at = 0.0
        self.sweep()  # jobs a previous run left behind: stale ones fail, expired ones go

    # -- kick-off and the worker thread ----------------------------------------------
    def start(self, plan: ExportPlan) -> str:
        self._maybe_sweep()
        with self._lock:
            busy = len(self._local) >= self.settings.export_max_running
        if busy:
            # each job takes most of a core: a queue would only hide the wait
            raise FhirError(
                429,
                "throttled",
                f"{self.settings.export_max_running} exports are already running in this"
                " worker; retry later",
                headers={"Retry-After": "30"},
            )
        job_id = uuid.uuid4().hex
        folder = self.root / job_id
        folder.mkdir(parents=True)
        now = time.time()
        job = _LocalJob(
            job_id,
            folder,
            {
                "id": job_id,
                "status": IN_PROGRESS,
                "request": plan.request_url,
                "baseUrl": plan.base_url,
                "created": now,
                "heartbeat": now,
                "pid": os.getpid(),
                "types": [s.type for s in plan.selections],
                "owner": plan.owner,
            },
        )
        self._save(job)  # the status URL answers before the thread runs
        with self._lock:
            self._local[job_id] = job
        thread = threading.Thread(
            target=self._run, args=(job, plan), name=f"export-{job_id[:8]}", daemon=True
        )
        self._threads = [t for t in self._threads if t.is_alive()]
        self._threads.append(thread)
        thread.start()
        self._start_ticker()
        return job_id

    def _run(self, job: _LocalJob, plan: ExportPlan) -> None:
        # taken before the store's snapshot starts: nothing changed after it is missed by
        # a later `_since=transactionTime` export (a change in between may come twice)
        transaction_time = now_utc()
        records: Iterator[StoredRecord] | None = None
        try:
            records = self.store.iter_export(plan.selections)
            outputs = write_ndjson(
                subsetted(records, plan.elements_for),
                job.folder,
                self.settings.export_file_max_resources,
                progress=lambda p: self._progress(job, p),
                cancelled=lambda: job.cancel.is_set() or self._stop.is_set(),
            )
            body = manifest(
                transaction_time,
                plan.request_url,
                requires_access_token(self.settings),
                outputs,
                lambda o: self._file_url(plan.base_url, job.id, o),
            )
            files.write_json(job.folder / files.MANIFEST, body)
            self._finish(job, COMPLETED, None)
        except ExportCancelled:
            if self._stop.is_set() and not job.cancel.is_set():
                self._finish(job, FAILED, "the server shut down during the export")
            else:
                shutil.rmtree(job.folder, ignore_errors=True)
        except Exception as exc:  # a background job has no caller to raise to
            log.exception("export job %s failed", job.id)
            with contextlib.suppress(Exception):
                self._finish(job, FAILED, f"{type(exc).__name__}: {exc}")
        finally:
            close = getattr(records, "close", None) if records is not None else None
            if close is not None:
                close()  # ends the store's read transaction / cursor now
            with self._lock:
                self._local.pop(job.id, None)

    def _progress(self, job: _LocalJob, progress: Progress) -> None:
        job.progress.processed = progress.processed
        job.progress.current_type = progress.current_type

    def _finish(self, job: _LocalJob, status: str, error: str | None) -> None:
        with self._lock:
            # no longer counts as running here once a poll can see the final state
            self._local.pop(job.id, None)
        with job.lock:
            job.state.update(status=status, error=error, finished=time.time())
        self._save(job)

    def _save(self, job: _LocalJob) -> None:
        with job.lock:
            job.state["heartbeat"] = time.time()
            job.state["processed"] = job.progress.processed
            job.state["currentType"] = job.progress.current_type
            files.write_json(job.folder / files.STATE, job.state)

    @staticmethod
    def _file_url(base_url: str, job_id: str, output: OutputFile) -> str:
        return f"{base_url}/bulk-files/{job_id}/{output.name}"

    # -- the ticker: heartbeats, cancel markers from other workers, sweeps -------------
    def _start_ticker(self) -> None:
        with self._lock:
            if self._ticker is not None:
                return
            self._ticker = threading.Thread(target=self._tick, name="export-ticker", daemon=True)
        self._ticker.start()

    def _tick(self) -> None:
        while not self._stop.wait(self.heartbeat_seconds):
            with self._lock:
                running = list(self._local.values())
            for job in running:
                try:
                    if (job.folder / files.CANCELLED).exists():
                        job.cancel.set()
                    elif job.state.get("status") == IN_PROGRESS:
                        self._save(job)
                except FileNotFoundError:
                    pass  # cancelled meanwhile: its thread removed the folder
                except Exception:
                    log.exception("could not write the heartbeat of export job %s", job.id)
            with contextlib.suppress(Exception):
                self._maybe_sweep()

    # -- what pollers see ----------------------------------------------------------------
    def status(self, job_id: str) -> JobStatus:
        folder, state = self._known(job_id)
        self._maybe_sweep()
        local = self._local.get(job_id)
        if state["status"] == IN_PROGRESS:
            if local is not None:
                p = local.progress
                return JobStatus(IN_PROGRESS, p.processed, p.current_type)
            if self._stale(state):
                state = self._declare_dead(folder, state)
            else:
                processed, current = state.get("processed", 0), state.get("currentType", "")
                return JobStatus(IN_PROGRESS, processed, current)
        if state["status"] == COMPLETED:
            try:
                body = (folder / files.MANIFEST).read_bytes()
            except FileNotFoundError:
                return JobStatus(FAILED, error="the export manifest is missing")
            return JobStatus(COMPLETED, state.get("processed", 0), manifest=body)
        return JobStatus(FAILED, state.get("processed", 0), error=state.get("error"))

    def file(self, job_id: str, name: str) -> Path:
        _folder, state = self._known(job_id)
        if state["status"] != COMPLETED:
            raise FhirError(404, "not-found", f"Export job {job_id} has no completed files")
        return files.output_file(self.root, job_id, name)

    def cancel(self, job_id: str) -> None:
        """DELETE on the status URL: stop the job (wherever it runs) and remove its files."""
        folder, state = self._known(job_id)
        (folder / files.CANCELLED).touch()
        with self._lock:
            local = self._local.get(job_id)
        if local is not None:
            local.cancel.set()  # its thread removes the folder
        elif state["status"] != IN_PROGRESS or self._stale(state):
            shutil.rmtree(folder, ignore_errors=True)
        # else: another worker runs it; its ticker sees the marker and removes the folder

    def _known(self, job_id: str) -> tuple[Path, dict[str, Any]]:
        folder = files.job_folder(self.root, job_id)
        state = files.read_json(folder / files.STATE)
        if (
            state is None
            or (folder / files.CANCELLED).exists()
            or self._expired(state)
            or not _owned_by_caller(state)
        ):
            raise FhirError(
                404, "not-found", f"No export job {job_id} (unknown, deleted or expired)"
            )
        return folder, state

    def _stale(self, state: dict[str, Any]) -> bool:
        return time.time() - float(state.get("heartbeat", 0)) > self.stale_after_seconds

    def _expired(self, state: dict[str, Any]) -> bool:
        ended = state.get("finished") or state.get("heartbeat") or 0
        return time.time() - float(ended) > self.settings.export_retention_seconds

    def _declare_dead(self, folder: Path, state: dict[str, Any]) -> dict[str, Any]:
        beat = fhir_instant(datetime.fromtimestamp(float(state.get("heartbeat", 0)), UTC))
        state = {
            **state,
            "status": FAILED,
            "finished": time.time(),
            "error": f"the worker running this export stopped (last heartbeat {beat});"
            " its partial files were discarded: start a new export",
        }
        files.write_json(folder / files.STATE, state)
        for partial in folder.glob("*.ndjson*"):
            partial.unlink(missing_ok=True)
        return state

    # -- clean-up ----------------------------------------------------------------------
    def _maybe_sweep(self) -> None:
        if time.monotonic() - self._swept_at >= SWEEP_EVERY_SECONDS:
            self.sweep()

    def sweep(self) -> None:
        """Fail jobs whose worker died; remove expired, cancelled and orphaned folders."""
        self._swept_at = time.monotonic()
        if not self.root.is_dir():
            return
        with self._lock:
            local = set(self._local)
        for folder in self.root.iterdir():
            if not files.JOB_ID.fullmatch(folder.name) or folder.name in local:
                continue
            try:
                self._sweep_one(folder)
            except OSError:
                log.exception("could not sweep export folder %s", folder)

    def _sweep_one(self, folder: Path) -> None:
        state = files.read_json(folder / files.STATE)
        if state is None:
            # a kick-off between mkdir and its first state write, or debris
            if time.time() - folder.stat().st_mtime > self.settings.export_retention_seconds:
                shutil.rmtree(folder, ignore_errors=True)
            return
        running = state.get("status") == IN_PROGRESS and not self._stale(state)
        if running:
            return
        if (folder / files.CANCELLED).exists() or self._expired(state):
            shutil.rmtree(folder, ignore_errors=True)
        elif state.get("status") == IN_PROGRESS:
            self._declare_dead(folder, state)

    # -- lifecycle ---------------------------------------------------------------------
    def stop(self, timeout: float = 10.0) -> None:
        """Stop running jobs (they are reported failed) and the ticker; before store close."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout)
        if self._ticker is not None:
            self._ticker.join(timeout)

    def wait(self, timeout: float = 60.0) -> None:
        """Wait until this process's jobs have finished (tests, benchmarks)."""
        for thread in list(self._threads):
            thread.join(timeout)


def _owned_by_caller(state: dict[str, Any]) -> bool:
    """Another client's job is answered as unknown: its existence is not for others."""
    principal = current_principal()
    owner = state.get("owner")
    return principal is None or owner is None or owner == principal.client_id


def subsetted(
    records: Iterator[StoredRecord], elements_for: Callable[[str], list[str] | None] | None
) -> Iterator[StoredRecord]:
    """Records as `_elements` asks (each one parsed and re-serialised), else as stored."""
    if elements_for is None:
        return records
    return (_subset(record, elements_for(record.type)) for record in records)


def _subset(record: StoredRecord, elements: list[str] | None) -> StoredRecord:
    if not elements:
        return record
    return dataclasses.replace(record, body=subset(record.body, None, elements))
