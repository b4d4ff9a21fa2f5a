"""Patient/$everything latency on a store of >= 1M resources (SQLite, real HTTP).

Uses the store built by benchmarks/generate.py (benchmarks/out/synthea-x11.db, 1,013,254
resources: 11 copies of the 122 Synthea bundles). Picks the patient whose compartment is
closest to 700 resources (the median Synthea bundle), the largest Synthea one, and a
synthetic patient with 12,000 resources added once to the store; starts `fhir-server
serve` on the file; and times fetching each whole record (`_count=1000`, following `next`
links) and the first page alone.

    .venv/bin/python benchmarks/generate.py        # once (cached)
    .venv/bin/python benchmarks/everything.py --runs 20 --record
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx
import orjson

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DEFAULT_DB = HERE / "out" / "synthea-x11.db"
sys.path.insert(0, str(HERE))

from crud import free_port, start_server  # noqa: E402  (benchmarks are scripts, not a package)
from reporting import load_average, report  # noqa: E402
from search import RawClient  # noqa: E402

BIG_PATIENT = "bench-12k"
BIG_SIZE = 12_000


def ensure_big_patient(db: Path) -> None:
    """Add one synthetic patient with 12,000 Observations (Synthea has none that large)."""
    from fhir_server.api.app import build_context
    from fhir_server.rest.versioning import stamped
    from fhir_server.settings import Settings
    from fhir_server.storage.records import StoredRecord, Write

    ctx = build_context(Settings(store=f"sqlite:///{db}"))
    try:
        with ctx.store.session() as session:
            if session.read("Patient", BIG_PATIENT) is not None:
                return
        when = datetime.now(UTC)
        resources = [
            {
                "resourceType": "Patient",
                "id": BIG_PATIENT,
                "gender": "female",
                "birthDate": "1950-01-01",
                "name": [{"family": "Bench", "given": ["Big"]}],
            }
        ]
        for i in range(BIG_SIZE - 1):
            resources.append(
                {
                    "resourceType": "Observation",
                    "id": f"{BIG_PATIENT}-obs-{i}",
                    "status": "final",
                    "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]},
                    "subject": {"reference": f"Patient/{BIG_PATIENT}"},
                    "effectiveDateTime": f"20{i % 25:02d}-0{1 + i % 9}-1{i % 10}T10:00:00+05:30",
                    "valueQuantity": {
                        "value": 60 + i % 40,
                        "unit": "/min",
                        "system": "http://unitsofmeasure.org",
                        "code": "/min",
                    },
                }
            )
        for start in range(0, len(resources), 2000):
            writes = []
            for resource in resources[start : start + 2000]:
                served = stamped(resource, resource["id"], 1, when)
                record = StoredRecord(
                    served["resourceType"],
                    served["id"],
                    1,
                    when,
                    False,
                    orjson.dumps(served),
                    "POST",
                )
                writes.append(Write(record, ctx.indexer.extract(served), 0))
            with ctx.store.session(write=True) as session:
                session.write(writes)
    finally:
        ctx.close()


def in_process_first_pages(
    db: Path, patients: list[tuple[str, int]], runs: int
) -> dict[str, float]:
    """p50 ms of the operation itself (store + Bundle assembly), without HTTP or a client."""
    from fhir_server.api.app import build_context
    from fhir_server.operations.everything import run_everything
    from fhir_server.rest.context import RequestInfo
    from fhir_server.settings import Settings

    ctx = build_context(Settings(store=f"sqlite:///{db}"))
    request = RequestInfo(base_url="http://127.0.0.1/fhir")
    out: dict[str, float] = {}
    try:
        for patient, _ in patients:
            params = [("_count", "1000")]
            run_everything(ctx, request, "Patient", patient, params, None)
            times = []
            for _ in range(runs):
                t0 = time.perf_counter()
                run_everything(ctx, request, "Patient", patient, params, None)
                times.append(time.perf_counter() - t0)
            out[patient] = pct(times, 0.5)
    finally:
        ctx.close()
    return out


def pick_patients(db: Path) -> list[tuple[str, int]]:
    """(patient id, compartment size) near 700 and the largest."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        counts = dict(
            conn.execute("SELECT patient_id, count(*) FROM compartment GROUP BY patient_id")
        )
    finally:
        conn.close()
    if not counts:
        raise SystemExit(f"{db} has no compartments: build it with benchmarks/generate.py")
    median_like = min(counts, key=lambda pid: abs(counts[pid] - 700))
    largest = max((pid for pid in counts if pid != BIG_PATIENT), key=lambda pid: counts[pid])
    return [
        (median_like, counts[median_like]),
        (largest, counts[largest]),
        (BIG_PATIENT, counts[BIG_PATIENT]),
    ]


def fetch_all(get: Callable[[str], bytes], base: str, patient: str) -> tuple[int, int, float]:
    """(entries, pages, seconds spent in HTTP exchanges): the client's own JSON parsing,
    needed only to find the next link, is not counted as the server's latency."""
    url: str | None = f"{base}/Patient/{patient}/$everything?_count=1000"
    resources = pages = 0
    waited = 0.0
    while url:
        t0 = time.perf_counter()
        body = get(url)
        waited += time.perf_counter() - t0
        bundle = orjson.loads(body)
        pages += 1
        resources += len(bundle.get("entry", []))
        url = next(
            (link["url"] for link in bundle.get("link", []) if link["relation"] == "next"), None
        )
    return resources, pages, waited


def timed_whole_records(
    get: Callable[[str], bytes], base: str, patient: str, runs: int
) -> tuple[list[float], tuple[int, int]]:
    fetch_all(get, base, patient)  # warm-up
    times, got = [], (0, 0)
    for _ in range(runs):
        resources, pages, waited = fetch_all(get, base, patient)
        got = (resources, pages)
        times.append(waited)
    return times, got


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", type=Path, default=DEFAULT_DB)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--record", action="store_true")
    args = parser.parse_args()
    if not args.db.exists():
        raise SystemExit(f"{args.db} is missing: run benchmarks/generate.py first")

    ensure_big_patient(args.db)
    patients = pick_patients(args.db)
    server_side = in_process_first_pages(args.db, patients, args.runs)
    port = free_port()
    base = f"http://127.0.0.1:{port}/fhir"
    proc = start_server(args.db, port, 1, timeout=300)
    lines = []
    try:
        with httpx.Client(timeout=120) as client:
            for patient, size in patients:
                whole, got = timed_whole_records(
                    lambda u: client.get(u).content, base, patient, args.runs
                )
                # a fresh connection: uvicorn closes keep-alive connections idle for 5 s
                raw = RawClient(base)
                minimal, _ = timed_whole_records(raw.get, base, patient, args.runs)
                raw.close()
                first = []
                for _ in range(args.runs):
                    t0 = time.perf_counter()
                    client.get(f"{base}/Patient/{patient}/$everything?_count=100")
                    first.append(time.perf_counter() - t0)
                lines.append(
                    f"- patient with {size:,} compartment resources ({got[0]:,} entries incl."
                    f" referenced, {got[1]} page(s) of 1000): whole record p50"
                    f" {pct(minimal, 0.5):.1f} ms, p95 {pct(minimal, 0.95):.1f} ms with a minimal"
                    f" HTTP client (httpx: p50 {pct(whole, 0.5):.1f} ms, p95 {pct(whole, 0.95):.1f}"
                    f" ms); first page of 100 (httpx) p50 {pct(first, 0.5):.1f} ms; server-side"
                    f" time of the first page of 1000, no HTTP: p50 {server_side[patient]:.1f} ms"
                )
    finally:
        proc.terminate()
        proc.wait(timeout=30)

    report(
        "everything.py",
        f"SQLite store {args.db.name} (>= 1M resources); 1 server worker; one sequential client"
        f" over loopback; {args.runs} timed runs after a warm-up. Load average when done:"
        f" {load_average()}.",
        lines,
        args.record,
    )


if __name__ == "__main__":
    main()
