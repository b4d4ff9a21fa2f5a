"""Export jobs across workers and crashes: state on disk, heartbeats, cancel, expiry."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from fhir_server.bulk_export import files, writer
from fhir_server.bulk_export.jobs import ExportJobs
from fhir_server.settings import Settings
from fhir_server.storage.base import ExportSelection
from fhir_server.storage.records import StoredRecord
from tests.bulk_export.conftest import download, export, kick_off, network, wait_for_manifest

STALE_JOB = "0123456789abcdef0123456789abcdef"


def _jobs(client: TestClient) -> ExportJobs:
    return client.app.state.ctx.export_jobs


def _job_of(status_url: str) -> str:
    return status_url.rsplit("/", 1)[1]


def _left_by_dead_worker(root: Path, heartbeat_age: float) -> Path:
    """A job folder as a worker that died mid-export leaves it: state, a partial file."""
    folder = root / STALE_JOB
    folder.mkdir(parents=True)
    beat = time.time() - heartbeat_age
    files.write_json(
        folder / files.STATE,
        {
            "id": STALE_JOB,
            "status": "in-progress",
            "request": "http://testserver/fhir/$export",
            "baseUrl": "http://testserver/fhir",
            "created": beat - 5,
            "heartbeat": beat,
            "processed": 1500,
            "currentType": "Observation",
        },
    )
    (folder / "Patient-1.ndjson").write_bytes(b'{"resourceType":"Patient","id":"p1"}\n')
    (folder / "Observation-1.ndjson.part").write_bytes(b'{"resourceType":"Obs')
    return folder


def test_job_of_a_dead_worker_is_reported_failed_never_partial(
    export_client: TestClient,
) -> None:
    folder = _left_by_dead_worker(_jobs(export_client).root, heartbeat_age=3600)
    status_url = f"/fhir/bulk-status/{STALE_JOB}"
    response = export_client.get(status_url)
    assert response.status_code == 500
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert "stopped" in outcome["issue"][0]["diagnostics"]
    assert not (folder / files.MANIFEST).exists()
    assert not list(folder.glob("*.ndjson*"))  # partial files are discarded
    assert export_client.get(f"/fhir/bulk-files/{STALE_JOB}/Patient-1.ndjson").status_code == 404
    assert orjson.loads((folder / files.STATE).read_bytes())["status"] == "failed"
    # still failed on the next poll, and DELETE removes it
    assert export_client.get(status_url).status_code == 500
    assert export_client.delete(status_url).status_code == 202
    assert not folder.exists()


def test_start_up_sweep_fails_jobs_left_in_progress(tmp_path: Path) -> None:
    settings = Settings(store="sqlite:///unused.db", export_dir=str(tmp_path))
    folder = _left_by_dead_worker(tmp_path, heartbeat_age=3600)
    ExportJobs(store=None, settings=settings)  # type: ignore[arg-type]  # never reads it
    state = orjson.loads((folder / files.STATE).read_bytes())
    assert state["status"] == "failed" and "heartbeat" in state["error"]


def test_job_with_a_fresh_heartbeat_in_another_worker_is_in_progress(
    export_client: TestClient,
) -> None:
    _left_by_dead_worker(_jobs(export_client).root, heartbeat_age=1)
    response = export_client.get(f"/fhir/bulk-status/{STALE_JOB}")
    assert response.status_code == 202
    assert response.headers["X-Progress"] == "in progress: 1,500 resources written (Observation)"


def test_any_worker_sharing_the_folder_answers_polls_and_serves_files(
    export_client: TestClient, tmp_path: Path
) -> None:
    network(export_client)
    status_url = kick_off(export_client, _type="Patient")
    assert wait_for_manifest(export_client, status_url).status_code == 200
    # a second worker process: its own ExportJobs on the same folder, no thread of this job
    other = ExportJobs(export_client.app.state.ctx.store, export_client.app.state.ctx.settings)
    job = _job_of(status_url)
    status = other.status(job)
    assert status.state == "completed"
    manifest = orjson.loads(status.manifest or b"")
    assert manifest["output"][0]["count"] == 3
    assert other.file(job, "Patient-1.ndjson").read_bytes().count(b"\n") == 3
    other.cancel(job)
    assert export_client.get(status_url).status_code == 404


def test_expired_jobs_are_removed(export_client: TestClient) -> None:
    network(export_client)
    status_url = kick_off(export_client, _type="Patient")
    wait_for_manifest(export_client, status_url)
    jobs = _jobs(export_client)
    folder = jobs.root / _job_of(status_url)
    state = orjson.loads((folder / files.STATE).read_bytes())
    state["finished"] = time.time() - jobs.settings.export_retention_seconds - 1
    files.write_json(folder / files.STATE, state)
    assert export_client.get(status_url).status_code == 404
    jobs.sweep()
    assert not folder.exists()


class _GatedStore:
    """A store whose export stream pauses after its first record until released."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self.first = threading.Event()
        self.release = threading.Event()

    def iter_export(self, selections: Sequence[ExportSelection]) -> Iterator[StoredRecord]:
        for i, record in enumerate(self.store.iter_export(selections)):
            yield record
            if i == 0:
                self.first.set()
                assert self.release.wait(10)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)


def test_delete_cancels_a_running_job_and_removes_its_files(
    export_client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    network(export_client)
    jobs = _jobs(export_client)
    gated = _GatedStore(jobs.store)
    monkeypatch.setattr(jobs, "store", gated)
    monkeypatch.setattr(writer, "PROGRESS_EVERY", 1)
    status_url = kick_off(export_client, _type="Observation")
    assert gated.first.wait(10)
    running = export_client.get(status_url)
    assert running.status_code == 202
    assert running.headers["X-Progress"].startswith("in progress")
    folder = jobs.root / _job_of(status_url)
    assert list(folder.glob("*.part"))  # a file is being written
    assert export_client.delete(status_url).status_code == 202
    gated.release.set()
    jobs.wait(10)
    assert not folder.exists()
    assert export_client.get(status_url).status_code == 404


def test_delete_from_another_worker_stops_the_owner(
    export_client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    network(export_client)
    jobs = _jobs(export_client)
    gated = _GatedStore(jobs.store)
    monkeypatch.setattr(jobs, "store", gated)
    monkeypatch.setattr(jobs, "heartbeat_seconds", 0.05)
    monkeypatch.setattr(writer, "PROGRESS_EVERY", 1)
    status_url = kick_off(export_client, _type="Observation")
    assert gated.first.wait(10)
    other = ExportJobs(jobs.store, jobs.settings)
    other.cancel(_job_of(status_url))  # leaves a marker: the owner runs the job
    folder = jobs.root / _job_of(status_url)
    deadline = time.monotonic() + 10
    while not _is_cancelled(jobs, _job_of(status_url)):
        assert time.monotonic() < deadline
        time.sleep(0.02)
    gated.release.set()
    jobs.wait(10)
    assert not folder.exists()


def _is_cancelled(jobs: ExportJobs, job: str) -> bool:
    local = jobs._local.get(job)  # the owner's view of the marker
    return local is None or local.cancel.is_set()


def test_a_resource_updated_during_an_export_appears_once(export_client: TestClient) -> None:
    """SQLite streams one snapshot; MongoDB walks by rid, which updates keep."""
    client = export_client
    for i in range(150):
        client.put(
            f"/fhir/Organization/org-{i}",
            json={"resourceType": "Organization", "id": f"org-{i}", "name": f"AAM {i}"},
        )
    jobs = _jobs(client)
    gated = _GatedStore(jobs.store)
    jobs.store = gated
    status_url = kick_off(client, _type="Organization")
    assert gated.first.wait(10)

    def update_all() -> None:
        for i in range(150):
            org = {"resourceType": "Organization", "id": f"org-{i}", "name": f"AAM {i} (renamed)"}
            assert client.put(f"/fhir/Organization/org-{i}", json=org).status_code == 200

    writer_thread = threading.Thread(target=update_all)
    writer_thread.start()
    writer_thread.join(60)
    gated.release.set()
    manifest = wait_for_manifest(client, status_url).json()
    found = download(client, manifest)["Organization"]
    exported = [r["id"] for r in found]
    assert sorted(exported) == sorted(f"org-{i}" for i in range(150))  # each exactly once
    if client.app.state.ctx.store.kind == "sqlite":
        assert {r["meta"]["versionId"] for r in found} == {"1"}  # the snapshot at the start


def test_several_exports_in_a_row_each_get_their_own_folder(export_client: TestClient) -> None:
    network(export_client)
    first = export(export_client, _type="Patient")
    second = export(export_client, _type="Patient")
    assert first["output"][0]["url"] != second["output"][0]["url"]
    assert len(download(export_client, second)["Patient"]) == 3


class _FailingStore:
    """A store whose export stream breaks after its first record (disk, network...)."""

    def __init__(self, store: Any) -> None:
        self.store = store

    def iter_export(self, selections: Sequence[ExportSelection]) -> Iterator[StoredRecord]:
        for record in self.store.iter_export(selections):
            yield record
            raise OSError("the store went away")

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)


def test_a_job_that_fails_mid_stream_is_500_with_no_manifest_or_partial_files(
    export_client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    network(export_client)
    jobs = _jobs(export_client)
    monkeypatch.setattr(jobs, "store", _FailingStore(jobs.store))
    status_url = kick_off(export_client, _type="Observation")
    response = wait_for_manifest(export_client, status_url)
    assert response.status_code == 500
    assert "the store went away" in response.json()["issue"][0]["diagnostics"]
    folder = jobs.root / _job_of(status_url)
    assert not (folder / files.MANIFEST).exists()
    assert not list(folder.glob("*.ndjson*"))


def test_kick_off_beyond_the_running_limit_is_429(
    export_client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    network(export_client)
    jobs = _jobs(export_client)
    monkeypatch.setattr(
        jobs, "settings", jobs.settings.model_copy(update={"export_max_running": 1})
    )
    gated = _GatedStore(jobs.store)
    monkeypatch.setattr(jobs, "store", gated)
    first = kick_off(export_client, _type="Patient")
    assert gated.first.wait(10)
    response = export_client.get("/fhir/$export", headers={"Prefer": "respond-async"})
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "30"
    gated.release.set()
    assert wait_for_manifest(export_client, first).status_code == 200
    assert kick_off(export_client, _type="Patient")  # room again
