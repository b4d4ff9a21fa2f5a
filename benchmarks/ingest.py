"""Bulk ingest rate: the Synthea bundles through POST /fhir, `fhir-server import`, and the floor.

1. floor: `ResourceValidator.validate` alone per resource on one core, then validation +
   index extraction (what every write must do at least once); the 2-core floor is half.
2. HTTP: starts `fhir-server serve` (uvicorn, fresh SQLite file, free loopback port) and
   POSTs each bundle (already decompressed in memory) to /fhir, `0-*` information
   bundles first, then the others from several client connections at once (as many
   facilities send at once), with one server worker per core; and, for comparison,
   one client after another to a single worker.
3. import: `fhir-server import FOLDER` into another fresh SQLite file (decompression,
   the CLI and its worker processes' start-up included), timed end to end.

Prints the figures and, with --record, appends them to benchmarks/RESULTS.md.

    .venv/bin/python benchmarks/ingest.py --record
"""

from __future__ import annotations

import argparse
import bz2
import os
import queue
import sqlite3
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import orjson
from crud import free_port, start_server  # benchmarks/ is the script's folder

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DEFAULT_DATA = REPO.parent / "shared" / "data" / "synthea" / "blaze-full-bz2"
sys.path.insert(0, str(REPO))

from reporting import report  # noqa: E402

from fhir_server.bulk_import import discover, is_information  # noqa: E402
from fhir_server.search.index import IndexExtractor  # noqa: E402
from fhir_server.search.registry import SearchParameterRegistry  # noqa: E402
from fhir_server.validation.compiled import compiled_validator  # noqa: E402
from fhir_server.validation.resource import ResourceValidator  # noqa: E402


def floor(bundles: list[bytes]) -> tuple[int, float, float]:
    """(resources, validation µs/resource, validation + indexing µs/resource), one core."""
    resources = [e["resource"] for raw in bundles for e in orjson.loads(raw)["entry"]]
    compiled_validator()  # built once per process, before the clock starts
    validator = ResourceValidator()
    indexer = IndexExtractor(SearchParameterRegistry.load_default())
    start = time.perf_counter()
    for resource in resources:
        validator.validate(resource)
    validate_s = time.perf_counter() - start
    start = time.perf_counter()
    for resource in resources:
        indexer.extract(resource)
    index_s = time.perf_counter() - start
    n = len(resources)
    return n, validate_s / n * 1e6, (validate_s + index_s) / n * 1e6


def over_http(bundles: list[tuple[str, bytes]], db: Path, workers: int, clients: int) -> float:
    """Seconds to POST every bundle: information bundles first, then `clients` at once."""
    port = free_port()
    proc = start_server(db, port, workers=workers)
    url = f"http://127.0.0.1:{port}/fhir"
    first = [raw for name, raw in bundles if is_information(Path(name))]
    rest = queue.SimpleQueue()
    for name, raw in bundles:
        if not is_information(Path(name)):
            rest.put(raw)

    def post(client: httpx.Client, raw: bytes) -> None:
        response = client.post(url, content=raw, headers={"Content-Type": "application/fhir+json"})
        assert response.status_code == 200, response.text[:500]

    def drain() -> None:
        with httpx.Client(timeout=600) as client:
            while True:
                try:
                    raw = rest.get_nowait()
                except queue.Empty:
                    return
                post(client, raw)

    try:
        start = time.perf_counter()
        with httpx.Client(timeout=600) as client:
            for raw in first:
                post(client, raw)
        with ThreadPoolExecutor(clients) as pool:
            for done in [pool.submit(drain) for _ in range(clients)]:
                done.result()
        return time.perf_counter() - start
    finally:
        proc.terminate()
        proc.wait(timeout=60)


def through_import(folder: Path, db: Path) -> float:
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "fhir_server", "import", str(folder), "--store", f"sqlite:///{db}"],
        cwd=REPO,
        check=True,
        stderr=subprocess.DEVNULL,
    )
    return time.perf_counter() - start


def stored(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT count(*) FROM resources").fetchone()[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--record", action="store_true")
    parser.add_argument("--clients", type=int, default=4, help="concurrent client connections")
    args = parser.parse_args()

    files = discover([args.data])
    named = [
        (f.name, bz2.decompress(f.read_bytes()) if f.suffix == ".bz2" else f.read_bytes())
        for f in files
    ]
    bundles = [raw for _, raw in named]
    n, validate_us, index_us = floor(bundles)
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as tmp:
        http_s = over_http(named, Path(tmp) / "http.db", cores, args.clients)
        http_n = stored(Path(tmp) / "http.db")
        serial_s = over_http(named, Path(tmp) / "serial.db", 1, 1)
        serial_n = stored(Path(tmp) / "serial.db")
        import_s = through_import(args.data, Path(tmp) / "import.db")
        import_n = stored(Path(tmp) / "import.db")
    assert http_n == serial_n == import_n == n, (http_n, serial_n, import_n, n)
    two_core = 2e6 / validate_us
    lines = [
        f"- floor, validation alone: {validate_us:,.0f} µs/resource = {1e6 / validate_us:,.0f}/s"
        f" on one core, {two_core:,.0f}/s on two",
        f"- floor, validation + index extraction: {index_us:,.0f} µs/resource ="
        f" {1e6 / index_us:,.0f}/s on one core, {2e6 / index_us:,.0f}/s on two",
        f"- POST /fhir ({cores} uvicorn workers, {args.clients} clients at once):"
        f" {n / http_s:,.0f} resources/s ({http_s:,.1f} s;"
        f" {n / http_s / two_core:.0%} of the 2-core validation floor)",
        f"- POST /fhir (1 uvicorn worker, one client, one bundle after another):"
        f" {n / serial_s:,.0f} resources/s ({serial_s:,.1f} s)",
        f"- fhir-server import ({cores} worker processes): {n / import_s:,.0f} resources/s"
        f" ({import_s:,.1f} s incl. start-up and bz2;"
        f" {n / import_s / two_core:.0%} of the 2-core validation floor)",
    ]
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    report(
        "ingest.py",
        f"{len(files)} Synthea bundles of {args.data.name} ({n:,} resources, `0-*` information"
        " bundles first), fresh database each run, full validation (the R4 JSON Schema"
        " completed and compiled, validation/compiled.py); clients on the same machine. Load"
        f" average when done: {load} (other processes shared the machine when above ~1).",
        lines,
        args.record,
    )


if __name__ == "__main__":
    main()
