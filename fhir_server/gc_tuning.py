"""Cyclic garbage collection tuned for a process that parses and writes big Bundles.

With CPython's default thresholds (700, 10, 10) the collector ran every few hundred
allocations while a parsed Bundle (tens of thousands of live dicts and lists) was being
processed, and each older-generation run walked that Bundle again: ≈ 25 % of the CPU of
a bulk load (330 → 250 µs per Synthea resource, benchmarks/ingest.py). JSON documents
hold no reference cycles, so collecting less often frees the same memory, only later;
reference counting still frees everything else at once.
"""

from __future__ import annotations

import gc

THRESHOLDS = (20_000, 20, 20)  # allocations before a young collection; then per generation


def tune_gc() -> None:
    """Set the thresholds (idempotent; the whole process shares them)."""
    if gc.get_threshold() != THRESHOLDS:
        gc.set_threshold(*THRESHOLDS)
