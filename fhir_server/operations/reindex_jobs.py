"""Background reindex jobs: re-extract the index of every current resource of some types.

A job runs in a thread of the process that accepted `$reindex`. Its state lives in a
`Task` resource (status `in-progress` -> `completed` / `failed` / `cancelled`, outputs
`processed` and `total`), so a client can poll it through any worker process and every
worker can tell that a type is still being indexed. The Task is rewritten at most once a
second while the job runs, and once at the end.

Records are read by `Store.iter_current` and their new index written in batches by
`StoreSession.replace_index`, which skips a record updated meanwhile (its writer indexed
it with the current registry already).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import orjson

from fhir_server.errors import FhirError
from fhir_server.instants import fhir_instant, now_utc
from fhir_server.rest.versioning import new_id, write_version
from fhir_server.storage.base import IndexUpdate
from fhir_server.storage.query import And, Token
from fhir_server.storage.records import StoredRecord

if TYPE_CHECKING:
    from fhir_server.rest.context import ServerContext

log = logging.getLogger("fhir_server.operations.reindex")

TASK_CODE_SYSTEM = "urn:fhir-server:operation"
TASK_CODE = "reindex"
BATCH = 500
PROGRESS_EVERY_SECONDS = 1.0
REMOTE_RECHECK_SECONDS = 1.0  # how often other workers' running jobs are looked up
# A job's Task is rewritten at least every few seconds while it runs; one left
# `in-progress` for longer belongs to a worker that died, and no longer counts as running.
ABANDONED_AFTER_SECONDS = 120.0


@dataclass
class ReindexJob:
    id: str  # the Task id
    types: tuple[str, ...]
    total: int = 0
    processed: int = 0
    state: str = "in-progress"  # Task.status: in-progress | completed | failed | cancelled
    error: str | None = None

    def task(self, started: str) -> dict[str, Any]:
        outputs: list[dict[str, Any]] = [
            {"type": {"text": "total"}, "valueInteger": self.total},
            {"type": {"text": "processed"}, "valueInteger": self.processed},
        ]
        if self.error:
            outputs.append({"type": {"text": "error"}, "valueString": self.error})
        return {
            "resourceType": "Task",
            "status": self.state,
            "intent": "order",
            "code": {"coding": [{"system": TASK_CODE_SYSTEM, "code": TASK_CODE}]},
            "description": "$reindex of " + ", ".join(self.types),
            "authoredOn": started,
            "lastModified": fhir_instant(now_utc()),
            "input": [{"type": {"text": "type"}, "valueString": t} for t in self.types],
            "output": outputs,
        }

    @classmethod
    def from_task(cls, task: dict[str, Any]) -> ReindexJob:
        outputs = {o["type"].get("text"): o for o in task.get("output", [])}
        return cls(
            id=task["id"],
            types=tuple(i.get("valueString", "") for i in task.get("input", [])),
            total=outputs.get("total", {}).get("valueInteger", 0),
            processed=outputs.get("processed", {}).get("valueInteger", 0),
            state=task.get("status", "in-progress"),
        )


class ReindexJobs:
    def __init__(self, ctx: ServerContext) -> None:
        self.ctx = ctx
        self._local: dict[str, ReindexJob] = {}
        self._threads: list[threading.Thread] = []
        self._remote: list[ReindexJob] = []
        self._remote_at = 0.0
        self._stop = threading.Event()
        self._lock = threading.Lock()

    # -- starting and running ---------------------------------------------------------
    def start(self, types: tuple[str, ...]) -> ReindexJob:
        job = ReindexJob(new_id(), types)
        with self.ctx.store.session() as session:
            job.total = sum(session.count((t,), None) for t in types)
        started = fhir_instant(now_utc())
        self._save(job, started)  # the status URL works before the thread runs
        with self._lock:
            self._local[job.id] = job
        thread = threading.Thread(
            target=self._run, args=(job, started), name=f"reindex-{job.id}", daemon=True
        )
        self._threads.append(thread)
        thread.start()
        return job

    def _run(self, job: ReindexJob, started: str) -> None:
        saved_at = time.monotonic()
        try:
            for type_ in job.types:
                batch: list[StoredRecord] = []
                for record in self.ctx.store.iter_current(type_):
                    if self._stop.is_set():
                        job.state = "cancelled"
                        return
                    batch.append(record)
                    if len(batch) >= BATCH:
                        self._flush(job, batch)
                        batch = []
                        if time.monotonic() - saved_at >= PROGRESS_EVERY_SECONDS:
                            self._save(job, started)
                            saved_at = time.monotonic()
                self._flush(job, batch)
            job.state = "completed"
        except Exception as exc:  # a background job has no caller to raise to
            log.exception("reindex job %s failed", job.id)
            job.state, job.error = "failed", str(exc)
        finally:
            try:
                self._save(job, started)
            except Exception:
                log.exception("could not record the end of reindex job %s", job.id)
            with self._lock:
                self._local.pop(job.id, None)
                self._remote_at = 0.0  # the cached view of stored jobs may show this one

    def _flush(self, job: ReindexJob, batch: list[StoredRecord]) -> None:
        if not batch:
            return
        extract = self.ctx.indexer.extract
        updates = [
            IndexUpdate(r.type, r.id, r.version, extract(orjson.loads(r.body))) for r in batch
        ]
        with self.ctx.store.session(write=True) as session:
            session.replace_index(updates)
        job.processed += len(batch)

    def _save(self, job: ReindexJob, started: str) -> None:
        with self.ctx.store.session(write=True) as session:
            current = session.read("Task", job.id)
            write_version(self.ctx, session, job.task(started), job.id, current, "PUT")

    def stop(self, timeout: float = 10.0) -> None:
        """Cancel running jobs and wait for their threads (before the store closes)."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout)

    def wait(self, timeout: float = 60.0) -> None:
        """Wait until this process's jobs have finished (tests, the CLI)."""
        for thread in list(self._threads):
            thread.join(timeout)

    # -- what is still being indexed ----------------------------------------------------
    def running(self) -> list[ReindexJob]:
        """Jobs in progress here and, looked up at most once a second, in other workers."""
        with self._lock:
            local = list(self._local.values())
        now = time.monotonic()
        if now - self._remote_at >= REMOTE_RECHECK_SECONDS:
            self._remote = self._stored_running()
            self._remote_at = now
        ids = {j.id for j in local}
        return local + [j for j in self._remote if j.id not in ids]

    def _stored_running(self) -> list[ReindexJob]:
        where = And(
            (
                Token("code", TASK_CODE, TASK_CODE_SYSTEM),
                Token("status", "in-progress"),
            )
        )
        with self.ctx.store.session() as session:
            keys = session.match_keys(("Task",), where, limit=100)
            records = session.read_many(keys).values()
        alive_since = now_utc() - timedelta(seconds=ABANDONED_AFTER_SECONDS)
        with self._lock:
            local = set(self._local)
        abandoned = [r for r in records if r.last_updated < alive_since and r.id not in local]
        if abandoned:
            self._fail_abandoned(abandoned)
        return [
            ReindexJob.from_task(orjson.loads(r.body))
            for r in records
            if r.last_updated >= alive_since
        ]

    def _fail_abandoned(self, records: list[StoredRecord]) -> None:
        """A job whose worker died says so: its Task becomes `failed` (once, by any worker)."""
        for record in records:
            task = orjson.loads(record.body)
            task["status"] = "failed"
            task["statusReason"] = {
                "text": "the worker process running this reindex stopped; run $reindex again"
            }
            try:
                with self.ctx.store.session(write=True) as session:
                    current = session.read("Task", record.id)
                    if current is None or current.version != record.version:
                        continue  # its worker came back, or another worker marked it
                    write_version(self.ctx, session, task, record.id, current, "PUT")
            except FhirError:
                log.warning("could not mark abandoned reindex Task/%s failed", record.id)

    def indexing_message(self, resource_type: str) -> str | None:
        """Why a search on `resource_type` may be incomplete, or None."""
        for job in self.running():
            if resource_type in job.types:
                return (
                    f"{resource_type} is still being reindexed (job Task/{job.id}:"
                    f" {job.processed} of {job.total} resources done); results may be incomplete"
                )
        return None
