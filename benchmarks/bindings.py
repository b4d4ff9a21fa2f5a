"""Cost of the write-time binding checks, and latency of token :in / :not-in / :below.

1. Write path: the binding check (terminology/bindings.py, with the shipped terminology)
   over every resource of the Synthea bundles in ../shared/data/synthea, per resource,
   next to write validation of the same resources (the compiled R4 schema, ADR 0010).
2. Search: server-side time (parse + SQL, no HTTP) of `:in`, `:not-in` and `:below`
   searches on the ≥ 1M-resource store benchmarks/out/synthea-x11.db, opened read-only
   (never modified), with benchmark ValueSets/CodeSystem added to the shipped content
   in memory; the same code set written as a plain `code=a,b,...` OR for comparison.

    .venv/bin/python benchmarks/bindings.py --repeat 20 --record
"""

from __future__ import annotations

import argparse
import glob
import sqlite3
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import orjson

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(REPO))

from reporting import load_average, report  # noqa: E402

from fhir_server.search.query import SearchQueryParser  # noqa: E402
from fhir_server.search.registry import SearchParameterRegistry  # noqa: E402
from fhir_server.storage import sqlite_search  # noqa: E402
from fhir_server.terminology.bindings import BindingChecker  # noqa: E402
from fhir_server.terminology.catalogue import load_shipped  # noqa: E402
from fhir_server.terminology.service import TerminologyService  # noqa: E402
from fhir_server.validation.compiled import compiled_validator  # noqa: E402
from fhir_server.validation.resource import ResourceValidator  # noqa: E402

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
DB = HERE / "out" / "synthea-x11.db"
SYNTHEA = REPO.parent / "shared" / "data" / "synthea"
BENCH = "https://bench.example/fhir"


def synthea_resources() -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for name in sorted(glob.glob(str(SYNTHEA / "*.json"))):
        bundle = orjson.loads(Path(name).read_bytes())
        out += [e["resource"] for e in bundle.get("entry", []) if "resource" in e]
    return out


def write_path(resources: list[dict[str, Any]], sample: int) -> list[str]:
    checker = BindingChecker(TerminologyService(None))
    start = time.perf_counter()
    checker.issues(resources[0])
    first = time.perf_counter() - start
    for r in resources:  # warm the (value set, system, code) cache
        checker.issues(r)
    warnings = sum(len(checker.issues(r)) for r in resources)
    start = time.perf_counter()
    for r in resources:
        checker.issues(r)
    per_check = (time.perf_counter() - start) / len(resources)
    compiled_validator()  # built before the clock starts
    validator = ResourceValidator()
    subset = resources[:sample]
    start = time.perf_counter()
    for r in subset:
        validator.issues(r)
    per_validation = (time.perf_counter() - start) / len(subset)
    return [
        f"- binding check, cache warm: {per_check * 1e6:.1f} µs/resource over {len(resources):,}"
        f" Synthea resources ({warnings} warnings/errors with the shipped terminology);"
        f" validation of the first {len(subset):,}: {per_validation * 1e6:.0f} µs/resource"
        f" (the check is {per_check / per_validation:.1%} of it)",
        f"- first check (restricting the table to the value sets the service knows, no"
        f" store): {first * 1e3:.1f} ms, then again every 60 s",
    ]


def observation_codes(conn: sqlite3.Connection) -> list[str]:
    rows = conn.execute(
        "SELECT code, count(*) n FROM idx_token WHERE type = 'Observation' AND param = 'code'"
        " AND system = ? GROUP BY code ORDER BY n DESC",
        (LOINC,),
    ).fetchall()
    return [r[0] for r in rows]


def value_set(url: str, system: str, codes: list[str]) -> dict[str, Any]:
    concepts = [{"code": c} for c in codes]
    include = [{"system": system, "concept": concepts}]
    return {
        "resourceType": "ValueSet",
        "url": url,
        "status": "active",
        "compose": {"include": include},
    }


def terminology(codes: list[str], conditions: list[str]) -> TerminologyService:
    catalogue = load_shipped()
    fake = [f"{n}-9" for n in range(100_000, 104_800)]
    for resource in (
        value_set(f"{BENCH}/ValueSet/obs-5", LOINC, codes[5:10]),
        value_set(f"{BENCH}/ValueSet/obs-all", LOINC, codes),
        value_set(f"{BENCH}/ValueSet/obs-5000", LOINC, fake + codes[5:10]),
        # a two-level is-a hierarchy over Synthea's Condition codes: one block holds half
        {
            "resourceType": "CodeSystem",
            "url": SNOMED,
            "status": "active",
            "content": "fragment",
            "hierarchyMeaning": "is-a",
            "concept": [
                {"code": "bench-block", "concept": [{"code": c} for c in conditions]},
            ],
        },
    ):
        catalogue.add(resource, shipped=True, source="benchmark")
    return TerminologyService(None, shipped=catalogue)


def search_shapes(
    conn: sqlite3.Connection,
    parser: SearchQueryParser,
    shapes: list[tuple[str, str, str]],
    repeat: int,
) -> list[str]:
    lines = []
    for label, type_, query in shapes:
        pairs = [tuple(p.split("=", 1)) for p in query.split("&")]
        times = []
        page = None
        for _ in range(repeat + 1):
            start = time.perf_counter()
            parsed = parser.parse([type_], pairs)  # type: ignore[arg-type]
            page = sqlite_search.search(conn, parsed.query())
            times.append(time.perf_counter() - start)
        times = sorted(times[1:])
        assert page is not None
        size = f"total {page.total}" if page.total is not None else f"{len(page.records)} entries"
        p95 = times[int(len(times) * 0.95) - 1] if len(times) > 1 else times[0]
        lines.append(
            f"- {label}: p50 {statistics.median(times) * 1e3:.1f} ms, p95 {p95 * 1e3:.1f} ms"
            f" ({size}; `{type_}?{query.replace(BENCH, '…')}`)"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--repeat", type=int, default=20)
    args.add_argument("--sample", type=int, default=3000, help="resources to validate")
    args.add_argument("--record", action="store_true", help="append to RESULTS.md")
    opts = args.parse_args(argv)
    lines: list[str] = []
    resources = synthea_resources()
    if resources:
        lines += write_path(resources, opts.sample)
    else:
        lines.append(f"- write path skipped: no Synthea bundles at {SYNTHEA}")
    if DB.exists():
        conn = sqlite3.connect(f"file:{DB}?mode=ro", uri=True, check_same_thread=False)
        total = conn.execute("SELECT count(*) FROM resources WHERE deleted = 0").fetchone()[0]
        codes = observation_codes(conn)
        conditions = [
            r[0]
            for r in conn.execute(
                "SELECT code, count(*) n FROM idx_token WHERE type = 'Condition' AND param = 'code'"
                " AND system = ? GROUP BY code ORDER BY n DESC",
                (SNOMED,),
            ).fetchall()
        ]
        parser = SearchQueryParser(SearchParameterRegistry.load_default())
        parser.terminology = terminology(codes, conditions[: len(conditions) // 2])
        five = ",".join(f"{LOINC}|{c}" for c in codes[5:10])
        shapes = [
            ("token OR of 5 codes (reference)", "Observation", f"code={five}"),
            (":in, 5 codes", "Observation", f"code:in={BENCH}/ValueSet/obs-5"),
            (":in, all 178 codes", "Observation", f"code:in={BENCH}/ValueSet/obs-all"),
            (":in, 4,805 codes", "Observation", f"code:in={BENCH}/ValueSet/obs-5000"),
            (":not-in, 5 codes", "Observation", f"code:not-in={BENCH}/ValueSet/obs-5"),
            (
                ":in + date",
                "Observation",
                f"code:in={BENCH}/ValueSet/obs-5&date=ge2020-01-01",
            ),
            (
                ":in, _total=accurate",
                "Observation",
                f"code:in={BENCH}/ValueSet/obs-5&_total=accurate",
            ),
            (
                f":below, a block of {len(conditions) // 2} codes",
                "Condition",
                f"code:below={SNOMED}|bench-block",
            ),
        ]
        lines += search_shapes(conn, parser, shapes, opts.repeat)
        setup_db = f"{total:,} resources (synthea-x11.db, read-only)"
    else:
        setup_db = "no synthea-x11.db: search skipped"
    setup = (
        f"{setup_db}; one process, no HTTP, {opts.repeat} timed runs per search after a"
        f" warm-up; shipped terminology. Load average when done: {load_average()}."
    )
    report("bindings.py", setup, lines, opts.record)
    return 0


if __name__ == "__main__":
    sys.exit(main())
