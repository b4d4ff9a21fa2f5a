"""Terminology operations over real HTTP against a 100k-concept code system.

Generates a synthetic code system (100,000 concepts, an is-a hierarchy five levels deep
with ten children per concept, multi-word clinical-sounding displays drawn from a
vocabulary of ~250 words), loads it into a fresh SQLite store under /tmp with the
loader the CLI uses, starts `fhir-server serve` on it and measures, with one keep-alive
httpx client (sequential requests, so each figure is one request's latency):

- `ValueSet/$expand` type-ahead (`filter` of one or two word prefixes, `count=20`) over
  the whole system and below one top-level concept (`?fhir_vs=isa/...`);
- `ValueSet/$validate-code` of random codes (members and non-members) in an is-a value
  set, and `CodeSystem/$lookup`;
- `$validate-code` in a small shipped value set (administrative-gender), for comparison.

    .venv/bin/python benchmarks/terminology.py --repeat 300 --record
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from crud import free_port, pct, start_server  # noqa: E402
from reporting import load_average, report  # noqa: E402

from fhir_server.storage.sqlite import SQLiteStore  # noqa: E402
from fhir_server.storage.terminology_base import StoredConcept  # noqa: E402
from fhir_server.terminology.loaders.common import concept, load_system  # noqa: E402

SYSTEM = "http://example.org/fhir/CodeSystem/synthetic-clinical"


def _vocabulary(text: str) -> list[str]:
    return text.split()


QUALIFIERS = _vocabulary(
    "acute chronic recurrent severe mild moderate congenital acquired primary secondary"
    " bilateral left right upper lower partial complete early late persistent transient"
    " benign malignant infectious traumatic idiopathic hereditary allergic drug-induced"
)
FINDINGS = _vocabulary(
    "infection inflammation obstruction haemorrhage fracture stenosis insufficiency failure"
    " hypertrophy atrophy ulcer abscess cyst tumour lesion deficiency dysfunction neuropathy"
    " retinopathy nephropathy anaemia fibrosis necrosis oedema effusion calculus hernia"
    " dislocation sprain laceration burn poisoning dermatitis arthritis myopathy embolism"
    " thrombosis aneurysm prolapse fistula polyp carcinoma lymphoma sepsis colitis hepatitis"
)
SITES = _vocabulary(
    "kidney liver lung heart brain stomach colon bladder pancreas spleen thyroid prostate"
    " uterus ovary breast skin bone joint knee hip shoulder spine eye ear nose throat"
    " oesophagus duodenum ileum rectum gallbladder artery vein lymph node muscle tendon"
    " nerve retina cornea lens cochlea larynx trachea bronchus pleura diaphragm"
)
CAUSES = _vocabulary(
    "bacterial viral fungal parasitic tuberculous diabetic hypertensive alcoholic"
    " autoimmune postoperative obstetric neonatal occupational nutritional"
)


def synthetic_concepts(total: int, seed: int = 7) -> list[StoredConcept]:
    rng = random.Random(seed)
    concepts: list[StoredConcept] = []
    frontier: list[str | None] = [None]
    while len(concepts) < total:
        next_frontier: list[str | None] = []
        for parent in frontier:
            for _ in range(10):
                if len(concepts) >= total:
                    break
                code = f"S{len(concepts) + 1:06d}"
                words = [rng.choice(QUALIFIERS), rng.choice(CAUSES), rng.choice(FINDINGS)]
                words += ["of", rng.choice(SITES)]
                if rng.random() < 0.4:
                    words.insert(0, rng.choice(QUALIFIERS))
                display = " ".join(words).capitalize()
                concepts.append(concept(code, display, parents=(parent,) if parent else ()))
                next_frontier.append(code)
        frontier = next_frontier
    return concepts


def build(db: Path, total: int) -> tuple[float, list[StoredConcept]]:
    concepts = synthetic_concepts(total)
    store = SQLiteStore(str(db))
    started = time.perf_counter()
    load_system(store.terminology, SYSTEM, "1", "Synthetic clinical", concepts)
    seconds = time.perf_counter() - started
    store.close()
    return seconds, concepts


def timed(client: httpx.Client, url: str, params: dict[str, str]) -> tuple[float, dict]:
    started = time.perf_counter()
    response = client.get(url, params=params)
    elapsed = time.perf_counter() - started
    response.raise_for_status()
    return elapsed, response.json()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concepts", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=300)
    parser.add_argument("--folder", type=Path, default=Path("/tmp/fhir-terminology-bench"))
    parser.add_argument("--record", action="store_true", help="append to benchmarks/RESULTS.md")
    args = parser.parse_args()
    args.folder.mkdir(parents=True, exist_ok=True)
    db = args.folder / "fhir.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    load_seconds, concepts = build(db, args.concepts)
    rng = random.Random(11)
    port = free_port()
    server = start_server(db, port, workers=1)
    base = f"http://127.0.0.1:{port}/fhir"
    lines = [
        f"- load {len(concepts):,} concepts (words + is-a closure) into SQLite:"
        f" {load_seconds:.1f} s ({len(concepts) / load_seconds:,.0f} concepts/s)"
    ]
    try:
        with httpx.Client(timeout=30) as client:
            root = concepts[0].code
            whole, below = f"{SYSTEM}?fhir_vs", f"{SYSTEM}?fhir_vs=isa/{root}"

            # type-ahead as a user types: prefixes of 3-6 letters of one or two real words
            def prefix() -> str:
                words = rng.choice(concepts).display.split()  # type: ignore[union-attr]
                picked = rng.sample([w for w in words if w != "of"], rng.choice((1, 2)))
                return " ".join(w[: rng.randint(3, 6)] for w in picked)

            shapes = {
                "$expand filter, whole system": lambda: (
                    f"{base}/ValueSet/$expand",
                    {"url": whole, "filter": prefix(), "count": "20"},
                ),
                "$expand filter, is-a one top concept": lambda: (
                    f"{base}/ValueSet/$expand",
                    {"url": below, "filter": prefix(), "count": "20"},
                ),
                "$validate-code, is-a value set": lambda: (
                    f"{base}/ValueSet/$validate-code",
                    {"url": below, "system": SYSTEM, "code": rng.choice(concepts).code},
                ),
                "$lookup": lambda: (
                    f"{base}/CodeSystem/$lookup",
                    {"system": SYSTEM, "code": rng.choice(concepts).code},
                ),
                "$validate-code, shipped administrative-gender": lambda: (
                    f"{base}/ValueSet/$validate-code",
                    {
                        "url": "http://hl7.org/fhir/ValueSet/administrative-gender",
                        "system": "http://hl7.org/fhir/administrative-gender",
                        "code": rng.choice(("male", "female", "other", "unknown", "x")),
                    },
                ),
            }
            for label, make in shapes.items():
                for _ in range(20):  # warm caches and the connection
                    timed(client, *make())
                latencies, totals = [], []
                for _ in range(args.repeat):
                    elapsed, body = timed(client, *make())
                    latencies.append(elapsed)
                    if "expansion" in body:
                        totals.append(body["expansion"]["total"])
                extra = f", median matches {sorted(totals)[len(totals) // 2]:,}" if totals else ""
                p50, p95 = pct(latencies, 0.5), pct(latencies, 0.95)
                lines.append(
                    f"- {label}: p50 {p50:.1f} ms, p95 {p95:.1f} ms ({args.repeat} requests{extra})"
                )
    finally:
        server.terminate()
        server.wait(timeout=30)
    setup = (
        f"{args.concepts:,}-concept synthetic code system (10 children per concept, 5 levels),"
        f" SQLite store under {args.folder}, 1 server worker, one sequential keep-alive client;"
        f" load average {load_average()}"
    )
    report("benchmarks/terminology.py", setup, lines, args.record)


if __name__ == "__main__":
    main()
