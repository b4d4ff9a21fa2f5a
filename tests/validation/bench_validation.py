"""Measure validation cost per resource on the Synthea bundles (not a test).

    PYTHONPATH=. .venv/bin/python tests/validation/bench_validation.py

Prints µs/resource for raw `model_validate`, for ResourceValidator.validate (what writes
pay), with the R4 JSON Schema added, and for the body depth check.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from fhir_server.validation.json_body import json_depth_exceeds
from fhir_server.validation.resource import ResourceValidator, _model_class, warm_up

SYNTHEA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "synthea"


def best_of(runs: int, fn: Callable[[], Any]) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    bodies = [p.read_bytes() for p in sorted(SYNTHEA.glob("*.json"))]
    docs = [orjson.loads(b) for b in bodies]
    resources = [e["resource"] for d in docs for e in d.get("entry", [])]
    n = len(resources)
    warm_up()
    classes = [_model_class(r["resourceType"]) for r in resources]
    plain = ResourceValidator()
    strict = ResourceValidator(schema_on_write=True)

    def raw() -> None:
        for cls, r in zip(classes, resources, strict=True):
            cls.model_validate(r)

    def wrapped() -> None:
        for r in resources:
            plain.validate(r)

    def with_schema() -> None:
        for r in resources:
            strict.validate(r)

    def depth() -> None:
        for d in docs:
            json_depth_exceeds(d, 64)

    with_schema()  # compile the schema validators before timing
    print(f"{n} resources from {len(bodies)} bundles")
    raw_t = best_of(3, raw)
    wrap_t = best_of(3, wrapped)
    print(f"raw model_validate      {raw_t / n * 1e6:7.1f} µs/resource")
    print(
        f"ResourceValidator       {wrap_t / n * 1e6:7.1f} µs/resource "
        f"(+{(wrap_t - raw_t) / n * 1e6:.1f})"
    )
    print(f"  + schema on write     {best_of(2, with_schema) / n * 1e6:7.1f} µs/resource")
    print(f"depth check (bodies)    {best_of(3, depth) / n * 1e6:7.1f} µs/resource")


if __name__ == "__main__":
    main()
