"""Bulk ingest rate: the Synthea bundles through POST /fhir, `fhir-server import`, and the floor.

1. floor: `ResourceValidator.validate` alone per resource on one core, then validation +
   index extraction (what every write must do at least once); the 2-core floor is half.
2. HTTP: starts `fhir-server serve` (uvicorn, fresh SQLite file, free loopback port) and
   POSTs each bundle (already decompressed in memory) to /fhir, one after another,
   `0-*` information bundles first.
3. import: `fhir-server import FOLDER` into another fresh SQLite file (decompression and
   the CLI included), timed end to end.

Prints the figures and, with --record, appends them to benchmarks/RESULTS.md.

    .venv/bin/python benchmarks/ingest.py --record
"""

from __future__ import annotations

import argparse
import bz2
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import orjson
from crud import free_port, start_server  # benchmarks/ is the script's folder

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DEFAULT_DATA = REPO.parent / "shared" / "data" / "synthea" / "blaze-full-bz2"
sys.path.insert(0, str(REPO))

from reporting import report  # noqa: E402

from fhir_server.bulk_import import discover  # noqa: E402
from fhir_server.search.index import IndexExtractor  # noqa: E402
from fhir_server.search.registry import SearchParameterRegistry  # noqa: E402
from fhir_server.validation.resource import ResourceValidator, warm_up  # noqa: E402


def floor(bundles: list[bytes]) -> tuple[int, float, float]:
    """(resources, validation µs/resource, validation + indexing µs/resource), one core."""
    resources = [e["resource"] for raw in bundles for e in orjson.loads(raw)["entry"]]
    warm_up()
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


def over_http(bundles: list[bytes], db: Path) -> float:
    port = free_port()
    proc = start_server(db, port, workers=1)
    try:
        with httpx.Client(timeout=600) as client:
            start = time.perf_counter()
            for raw in bundles:
                response = client.post(
                    f"http://127.0.0.1:{port}/fhir",
                    content=raw,
                    headers={"Content-Type": "application/fhir+json"},
                )
                assert response.status_code == 200, response.text[:500]
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
    args = parser.parse_args()

    files = discover([args.data])
    bundles = [
        bz2.decompress(f.read_bytes()) if f.suffix == ".bz2" else f.read_bytes() for f in files
    ]
    n, validate_us, index_us = floor(bundles)
    with tempfile.TemporaryDirectory() as tmp:
        http_s = over_http(bundles, Path(tmp) / "http.db")
        http_n = stored(Path(tmp) / "http.db")
        import_s = through_import(args.data, Path(tmp) / "import.db")
        import_n = stored(Path(tmp) / "import.db")
    assert http_n == import_n == n, (http_n, import_n, n)
    two_core = 2e6 / validate_us
    lines = [
        f"- floor, validation alone: {validate_us:,.0f} µs/resource = {1e6 / validate_us:,.0f}/s"
        f" on one core, {two_core:,.0f}/s on two",
        f"- floor, validation + index extraction: {index_us:,.0f} µs/resource ="
        f" {1e6 / index_us:,.0f}/s on one core, {2e6 / index_us:,.0f}/s on two",
        f"- POST /fhir (uvicorn, 1 worker): {n / http_s:,.0f} resources/s ({http_s:,.1f} s;"
        f" {n / http_s / two_core:.0%} of the 2-core validation floor)",
        f"- fhir-server import: {n / import_s:,.0f} resources/s ({import_s:,.1f} s incl. start-up"
        f" and bz2; {n / import_s / two_core:.0%} of the 2-core validation floor)",
    ]
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    report(
        "ingest.py",
        f"{len(files)} Synthea bundles of {args.data.name} ({n:,} resources, `0-*` information"
        " bundles first), fresh database each run, full validation (fhir.resources R4B) with"
        f" {os.cpu_count()} validation worker processes; client on the same machine. Load"
        f" average when done: {load} (other processes shared the machine when above ~1).",
        lines,
        args.record,
    )


if __name__ == "__main__":
    main()
