"""Bulk `$export` throughput and memory on a ≥ 1M-resource SQLite store, opened read-only.

Two measurements on the existing store of `generate.py` (never modified: the store is
opened without its start-up DDL, and every file is written under --out in /tmp):

1. store streaming path: `Store.iter_export` over every type -> `write_ndjson`, in this
   process; resources/s, MB/s, and the resident set sampled every 0.1 s (baseline, peak,
   growth; anonymous memory separately, since the store's mmap window counts as RSS);
2. end to end over HTTP: `fhir-server`'s app under uvicorn in a child process,
   `GET /fhir/$export` with `Prefer: respond-async`, polling the status URL, then
   downloading every file with httpx (streamed, discarded); the server's RSS is sampled.

    .venv/bin/python benchmarks/export.py --record
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from crud import free_port  # noqa: E402
from reporting import load_average, report  # noqa: E402

from fhir_server.storage.sqlite import SQLiteStore  # noqa: E402

DEFAULT_DB = HERE / "out" / "synthea-x11.db"


class ReadOnlySQLiteStore(SQLiteStore):
    """The SQLite adapter on a store it must not change: every connection this process
    opens to the file is read-only (`mode=ro`), so a write anywhere (start-up DDL of any
    part of the adapter included) fails loudly instead of altering the benchmark store."""

    def __init__(self, path: str) -> None:
        _read_only_connections(path)
        super().__init__(path)

    def _create_schema(self) -> None:
        pass  # the store is already up to date; DDL would need a write


def _read_only_connections(path: str) -> None:
    connect = sqlite3.connect
    if getattr(connect, "read_only_path", None) == path:
        return

    def read_only(target: Any, *args: Any, **kwargs: Any) -> sqlite3.Connection:
        if str(target) == path:
            target, kwargs["uri"] = f"file:{path}?mode=ro", True
        return connect(target, *args, **kwargs)

    read_only.read_only_path = path  # type: ignore[attr-defined]
    sqlite3.connect = read_only  # type: ignore[assignment]


def _fingerprint(db: Path) -> tuple[int, int]:
    stat = db.stat()
    return stat.st_size, stat.st_mtime_ns


def _status_kib(pid: int | str, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


class RssSampler:
    """Peak VmRSS / RssAnon of a process, sampled in a thread while a run lasts."""

    def __init__(self, pid: int | str = "self", every: float = 0.1) -> None:
        self.pid = pid
        self.every = every
        self.baseline = (_status_kib(pid, "VmRSS"), _status_kib(pid, "RssAnon"))
        self.peak = self.baseline
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            try:
                rss, anon = _status_kib(self.pid, "VmRSS"), _status_kib(self.pid, "RssAnon")
            except FileNotFoundError:
                return
            self.peak = (max(self.peak[0], rss), max(self.peak[1], anon))

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def describe(self) -> str:
        (rss0, anon0), (rss1, anon1) = self.baseline, self.peak
        return (
            f"RSS {rss0 / 1024:,.0f} -> peak {rss1 / 1024:,.0f} MiB"
            f" (growth {(rss1 - rss0) / 1024:,.0f} MiB; anonymous {anon0 / 1024:,.0f} ->"
            f" {anon1 / 1024:,.0f} MiB)"
        )


def store_path(db: Path, out: Path, max_per_file: int) -> str:
    from fhir_server.bulk_export.writer import write_ndjson
    from fhir_server.search.registry import SearchParameterRegistry
    from fhir_server.storage.base import ExportSelection

    types = sorted(SearchParameterRegistry.load_default().resource_types)
    store = ReadOnlySQLiteStore(str(db))
    with RssSampler() as rss:
        start = time.perf_counter()
        outputs = write_ndjson(
            store.iter_export([ExportSelection(t) for t in types]), out, max_per_file
        )
        seconds = time.perf_counter() - start
    store.close()
    count = sum(o.count for o in outputs)
    size = sum((out / o.name).stat().st_size for o in outputs)
    return (
        f"- store streaming path (`Store.iter_export` -> `write_ndjson`): {count:,} resources"
        f" in {len(outputs)} files, {seconds:.1f} s = **{count / seconds:,.0f} resources/s**,"
        f" {size / seconds / 1e6:,.0f} MB/s written ({size / 1e9:.2f} GB); {rss.describe()}"
    )


def serve(db: Path, port: int, export_dir: Path) -> None:
    """Child process: the real app on the read-only store."""
    import uvicorn

    from fhir_server.api.app import create_app
    from fhir_server.settings import Settings

    settings = Settings(store="sqlite:///unused.db", export_dir=str(export_dir))
    app = create_app(settings, store=ReadOnlySQLiteStore(str(db)))
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


def http_path(db: Path, out: Path) -> str:
    port = free_port()
    base = f"http://127.0.0.1:{port}/fhir"
    proc = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(port), "--db", str(db), "--out", str(out)]
    )
    try:
        with httpx.Client(timeout=600) as client:
            _wait_until_up(client, base)
            with RssSampler(proc.pid) as rss:
                start = time.perf_counter()
                kick = client.get(f"{base}/$export", headers={"Prefer": "respond-async"})
                assert kick.status_code == 202, kick.text
                status_url = kick.headers["Content-Location"]
                polls = 0
                while True:
                    status = client.get(status_url)
                    polls += 1
                    if status.status_code != 202:
                        break
                    time.sleep(0.5)
                assert status.status_code == 200, status.text
                exported = time.perf_counter() - start
                manifest = status.json()
                received = size = 0
                for output in manifest["output"]:
                    with client.stream("GET", output["url"]) as response:
                        assert response.status_code == 200
                        for chunk in response.iter_bytes(1 << 20):
                            size += len(chunk)
                            received += chunk.count(b"\n")
                seconds = time.perf_counter() - start
            client.delete(status_url)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    count = sum(o["count"] for o in manifest["output"])
    assert received == count, (received, count)
    return (
        f"- end to end over HTTP (kick-off, {polls} polls at 0.5 s, download of"
        f" {len(manifest['output'])} files with httpx): {count:,} resources; manifest after"
        f" {exported:.1f} s (**{count / exported:,.0f} resources/s** exported), all files"
        f" downloaded after {seconds:.1f} s ({count / seconds:,.0f} resources/s,"
        f" {size / 1e9:.2f} GB); server {rss.describe()}"
    )


def _wait_until_up(client: httpx.Client, base: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if client.get(f"{base}/metadata").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    raise RuntimeError("the server did not start")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--db", type=Path, default=DEFAULT_DB, help="SQLite store (read only)")
    parser.add_argument("--out", type=Path, default=Path("/tmp/fhir-export-bench"))
    parser.add_argument("--max-per-file", type=int, default=100_000)
    parser.add_argument("--skip-http", action="store_true", help="only the store path")
    parser.add_argument("--record", action="store_true", help="append to RESULTS.md")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)  # child process mode
    args = parser.parse_args()
    if args.serve:
        serve(args.db, args.serve, args.out)
        return
    before = _fingerprint(args.db)
    conn = sqlite3.connect(f"file:{args.db}?mode=ro", uri=True)
    resources = conn.execute("SELECT count(*) FROM resources WHERE deleted = 0").fetchone()[0]
    conn.close()
    lines = []
    shutil.rmtree(args.out, ignore_errors=True)
    lines.append(store_path(args.db, args.out / "store", args.max_per_file))
    print(lines[-1], flush=True)
    shutil.rmtree(args.out, ignore_errors=True)
    if not args.skip_http:
        lines.append(http_path(args.db, args.out / "http"))
        print(lines[-1], flush=True)
        shutil.rmtree(args.out, ignore_errors=True)
    if _fingerprint(args.db) != before:
        raise SystemExit(f"{args.db} changed during the run: the figures are not recorded")
    lines.append("- store file unchanged (size and mtime checked before and after)")
    report(
        "export.py",
        f"{resources:,} current resources ({args.db.name}, opened read-only, page cache warm"
        f" after the first pass); NDJSON written to {args.out} on the same disk;"
        f" {args.max_per_file:,} resources per file; {os.cpu_count()} cores shared with other"
        f" work (load average when done: {load_average()}).",
        lines,
        args.record,
    )


if __name__ == "__main__":
    main()
