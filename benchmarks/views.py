"""ViewDefinition/$run throughput: the lab-results view over Observations of synthea-x11.db.

Reads the first N current Observations (stored bodies, in store order) from
benchmarks/out/synthea-x11.db opened read-only, then times, each on the same bodies:

- evaluate: orjson.loads + the compiled view (where + 14 columns) -> rows;
- csv / ndjson / parquet: the same plus encoding with the $run writers;
- store -> csv: the whole $run path from a copy-free SQLite read (bodies streamed by
  one read-only cursor), as `Store.iter_current` does;
- fhirpathpy only: every path of the view through the fallback engine, on a sample,
  to show what compiling the paths buys.

    .venv/bin/python benchmarks/views.py --observations 100000 --record
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import orjson

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from reporting import load_average, report  # noqa: E402

from fhir_server.views import formats  # noqa: E402
from fhir_server.views.fhirpath import Env, _engine  # noqa: E402
from fhir_server.views.runner import compile_view  # noqa: E402

DB = HERE / "out" / "synthea-x11.db"
VIEW = HERE.parent / "views" / "lab-results.json"


def bodies(conn: sqlite3.Connection, limit: int) -> Iterator[bytes]:
    sql = (
        "SELECT body FROM resources WHERE type = 'Observation' AND deleted = 0 ORDER BY rid LIMIT ?"
    )
    for (body,) in conn.execute(sql, (limit,)):
        yield body


def rate_line(label: str, resources: int, rows: int, seconds: float, extra: str = "") -> str:
    return (
        f"- {label}: {rows:,} rows from {resources:,} Observations in {seconds:.2f} s"
        f" ({resources / seconds:,.0f} resources/s, {rows / seconds:,.0f} rows/s){extra}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--observations", type=int, default=100_000)
    parser.add_argument("--engine-sample", type=int, default=2_000)
    parser.add_argument("--record", action="store_true", help="append to RESULTS.md")
    opts = parser.parse_args(argv)
    if not DB.exists():
        print(f"{DB} is absent: build it with benchmarks/generate.py --copies 11")
        return 1
    view = compile_view(orjson.loads(VIEW.read_bytes()))
    columns = list(view.columns)
    conn = sqlite3.connect(f"file:{DB}?mode=ro", uri=True)
    stored = list(bodies(conn, opts.observations))
    conn.close()
    n = len(stored)

    def rows() -> Iterator[tuple]:
        for body in stored:
            yield from view.rows(orjson.loads(body))

    lines: list[str] = []
    start = time.perf_counter()
    count = sum(1 for _ in rows())
    lines.append(rate_line("evaluate (orjson.loads + view)", n, count, time.perf_counter() - start))
    for label, media in (
        ("csv", formats.CSV),
        ("ndjson", formats.NDJSON),
        ("parquet", formats.PARQUET),
    ):
        start = time.perf_counter()
        size = sum(len(chunk) for chunk in formats.writer(media)(columns, rows()))
        seconds = time.perf_counter() - start
        lines.append(rate_line(f"evaluate + {label}", n, count, seconds, f", {size:,} bytes"))

    # the whole path as $run takes it: one ordered read-only cursor streaming bodies
    start = time.perf_counter()
    fresh = sqlite3.connect(f"file:{DB}?mode=ro", uri=True)
    source = (orjson.loads(b) for b in bodies(fresh, n))
    size = sum(len(c) for c in formats.csv_chunks(columns, view.iter_rows(source)))
    fresh.close()
    lines.append(rate_line("store read + evaluate + csv", n, count, time.perf_counter() - start))

    sample = [orjson.loads(b) for b in stored[: opts.engine_sample]]
    engines = [_engine(c.path) for c in view.columns]
    start = time.perf_counter()
    for resource in sample:
        env = Env(resource, {"loinc": ["http://loinc.org"]})
        for engine in engines:
            engine([resource], env)
    engine_seconds = time.perf_counter() - start
    start = time.perf_counter()
    for resource in sample:
        view.rows(resource)
    compiled_seconds = time.perf_counter() - start
    lines.append(
        f"- the view's {len(engines)} column paths through fhirpathpy only:"
        f" {len(sample) / engine_seconds:,.0f} resources/s vs"
        f" {len(sample) / compiled_seconds:,.0f} compiled ({len(sample):,} Observations;"
        f" {engine_seconds / compiled_seconds:.0f}x)"
    )
    setup = (
        f"views/lab-results.json (where + {len(columns)} columns) over the first {n:,}"
        " Observations of synthea-x11.db (read-only; bodies read once, runs in memory except"
        f" 'store read'); one process, no HTTP. Load average when done: {load_average()}."
    )
    report("views.py", setup, lines, opts.record)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
