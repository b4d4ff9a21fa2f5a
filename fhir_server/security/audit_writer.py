"""Writes AuditEvents in batches, and tells each request when its own one is durable.

A request's response is held until its AuditEvent has been committed, so a crash can
lose only the audit of a request whose response never left (and so never completed).
Requests arriving together share one store commit (group commit): under load the audit
costs one commit per batch, not one per request; a lone request waits for one commit.

AuditEvents are server records: they skip the write rules (a delete's audit names the
resource it deleted, which referential integrity would refuse) and are never updated.
"""

from __future__ import annotations

import logging
import queue
import threading
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

import orjson

from fhir_server.instants import fhir_instant, now_utc
from fhir_server.rest.versioning import new_id, stamped
from fhir_server.security.acting import current
from fhir_server.security.audit import audit_event
from fhir_server.storage.base import Store, StoreSession
from fhir_server.storage.records import StoredRecord, Write

if TYPE_CHECKING:
    from fhir_server.rest.context import ServerContext

log = logging.getLogger("fhir_server.audit")
BATCH = 256


class AuditWriter:
    def __init__(self, ctx: ServerContext) -> None:
        self.ctx = ctx
        self._queue: queue.Queue[tuple[dict[str, Any], Future[None]] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="audit-writer", daemon=True)
        self._thread.start()

    def attach(self, store: Store) -> None:
        """Record a request's AuditEvent inside its own write transaction when it writes:
        then the audit costs no commit of its own, and cannot outlive a rolled-back write."""
        store.commit_hooks.before.append(self._with_the_write)
        store.commit_hooks.after.append(self._committed)

    def _with_the_write(self, session: StoreSession) -> None:
        access = current()
        if access is None or access.request is None or access.audit_state != "none":
            return  # not a request (a job, this writer), or already recorded
        event = audit_event(access.request, with_the_write=True)
        session.write([self._record(event)])
        access.audit_state = "pending"

    def _committed(self) -> None:
        access = current()
        if access is not None and access.audit_state == "pending":
            access.audit_state = "committed"

    def submit(self, event: dict[str, Any]) -> Future[None]:
        done: Future[None] = Future()
        self._queue.put((event, done))
        return done

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < BATCH:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    self._write(batch)
                    return
                batch.append(item)
            self._write(batch)

    def _write(self, batch: list[tuple[dict[str, Any], Future[None]]]) -> None:
        try:
            writes = [self._record(event) for event, _ in batch]
            with self.ctx.store.session(write=True) as session:
                session.write(writes)
        except Exception as error:  # the requests waiting on it must hear of it
            log.exception("could not write %d audit events", len(batch))
            for _, done in batch:
                done.set_exception(error)
            return
        for _, done in batch:
            done.set_result(None)

    def _record(self, event: dict[str, Any]) -> Write:
        id_ = new_id()
        when = now_utc()
        served = stamped(event, id_, 1, fhir_instant(when))
        record = StoredRecord("AuditEvent", id_, 1, when, False, orjson.dumps(served), "POST")
        return Write(record, self.ctx.indexer.extract(served), 0)
