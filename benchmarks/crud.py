"""Single-resource create and read rates over real HTTP against an SQLite store.

Starts `fhir-server serve` on a free loopback port with a fresh database, then drives it
with httpx clients (keep-alive) from several threads. Prints the figures and, with
--record, appends them to benchmarks/RESULTS.md.

    .venv/bin/python benchmarks/crud.py --creates 3000 --reads 10000 --clients 4 --record
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
from reporting import load_average, report

HERE = Path(__file__).resolve().parent
REPO = HERE.parent


def patient(i: int) -> dict:
    return {
        "resourceType": "Patient",
        "identifier": [
            {"system": "https://healthid.ndhm.gov.in", "value": f"91-{i:04d}-0000-0001"}
        ],
        "name": [{"family": "Sharma", "given": [f"Asha{i}"]}, {"text": "आशा शर्मा"}],
        "gender": "female",
        "birthDate": "1985-04-12",
        "address": [{"city": "New Delhi", "state": "Delhi", "postalCode": "110075"}],
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(db: Path, port: int, workers: int, timeout: float = 60) -> subprocess.Popen:
    """`fhir-server serve` on an SQLite file, once /metadata answers (a first open of an old
    file may bring its index layout up to date: pass a longer timeout for big stores)."""
    env = {**os.environ, "FHIR_STORE": f"sqlite:///{db}"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "fhir_server",
            "serve",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--log-level",
            "warning",
        ],
        env=env,
        cwd=REPO,
    )
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/fhir/metadata", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("server did not start")


def run_parallel(n: int, clients: int, work) -> tuple[float, list[float]]:
    latencies: list[float] = []
    lock = threading.Lock()
    counter = iter(range(n))

    def worker() -> None:
        with httpx.Client(timeout=30) as client:
            local = []
            while True:
                with lock:
                    i = next(counter, None)
                if i is None:
                    break
                t0 = time.perf_counter()
                work(client, i)
                local.append(time.perf_counter() - t0)
            with lock:
                latencies.extend(local)

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - start, latencies


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--creates", type=int, default=2000)
    parser.add_argument("--reads", type=int, default=5000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--record", action="store_true")
    args = parser.parse_args()

    port = free_port()
    base = f"http://127.0.0.1:{port}/fhir"
    with tempfile.TemporaryDirectory() as tmp:
        proc = start_server(Path(tmp) / "bench.db", port, args.workers)
        try:
            ids: list[str] = [""] * args.creates

            def create(client: httpx.Client, i: int) -> None:
                r = client.post(
                    f"{base}/Patient", json=patient(i), headers={"Prefer": "return=minimal"}
                )
                assert r.status_code == 201, r.text
                ids[i] = r.headers["Location"].split("/")[-3]

            create_s, create_lat = run_parallel(args.creates, args.clients, create)

            def read(client: httpx.Client, i: int) -> None:
                r = client.get(f"{base}/Patient/{ids[i % len(ids)]}")
                assert r.status_code == 200

            read_s, read_lat = run_parallel(args.reads, args.clients, read)
        finally:
            proc.terminate()
            proc.wait(timeout=30)

    lines = [
        f"- creates: {args.creates / create_s:,.0f}/s (p50 {pct(create_lat, 0.5):.2f} ms,"
        f" p95 {pct(create_lat, 0.95):.2f} ms)",
        f"- reads: {args.reads / read_s:,.0f}/s (p50 {pct(read_lat, 0.5):.2f} ms,"
        f" p95 {pct(read_lat, 0.95):.2f} ms, mean {statistics.mean(read_lat) * 1000:.2f} ms)",
    ]
    report(
        "crud.py",
        f"SQLite (WAL, synchronous=FULL); {args.workers} server workers; {args.clients} client"
        " threads on the same machine; Patient resources; HTTP keep-alive. Load average when"
        f" done: {load_average()}.",
        lines,
        args.record,
    )


if __name__ == "__main__":
    main()
