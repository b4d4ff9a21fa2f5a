"""Build a large SQLite store by repeating the Synthea bundles with rewritten ids.

The 122 Blaze Synthea bundles (92,114 resources) are loaded `--copies` times. Copy `n`
suffixes every resource id with `-cNN` and rewrites every reference to match: bundle-local
`urn:uuid:` references and the conditional `Type?identifier=system|value` references to
the hospital/practitioner information bundles are resolved to `Type/id-cNN`, so each copy
is a self-contained network of patients, organizations and practitioners. Identifier
values are kept as they are (a copy is a "twin" facility with the same identifiers).

Generation writes through the store port (`SQLiteStore` sessions, `Write` records and
`IndexExtractor` index values) but skips HTTP, validation and transaction-bundle
processing: those are measured elsewhere and would make a million-resource load take
an hour. Both cores are used: worker processes rewrite and index the bundles while the
main process writes batches with `synchronous=OFF` (a crash only loses the cache file).

The database is written to `<out>.partial` and renamed when complete, so a rerun with
the same arguments finds the finished file and skips generation.

    .venv/bin/python benchmarks/generate.py --copies 11   # ~1.01M resources
"""

from __future__ import annotations

import argparse
import bz2
import multiprocessing as mp
import os
import sqlite3
import sys
import time
from collections.abc import Iterator
from dataclasses import fields
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))

from fhir_server.instants import fhir_instant  # noqa: E402
from fhir_server.rest.versioning import stamped  # noqa: E402
from fhir_server.search.index import IndexExtractor  # noqa: E402
from fhir_server.search.registry import SearchParameterRegistry  # noqa: E402
from fhir_server.storage.records import (  # noqa: E402
    CompositeValue,
    QuantityValue,
    RangeValue,
    ReferenceValue,
    ResourceIndex,
    SortValue,
    StoredRecord,
    StringValue,
    TokenValue,
    UriValue,
    Write,
)
from fhir_server.storage.sqlite import SQLiteStore  # noqa: E402

SOURCE = REPO.parent / "shared" / "data" / "synthea" / "blaze-full-bz2"
OUT = HERE / "out"
# Deterministic lastUpdated values: one microsecond apart from a fixed instant.
T0 = datetime(2025, 1, 1, tzinfo=UTC)

Encoded = tuple[str, str, int, bytes, tuple]  # type, id, tick, body, encoded index

_extractor: IndexExtractor | None = None
_by_identifier: dict[str, str] = {}


def bundle_files(source: Path) -> list[Path]:
    # the information bundles (organizations, practitioners) go first, like a real load
    return sorted(source.glob("*.json.bz2"), key=lambda p: (not p.name.startswith("0-"), p.name))


def identifier_map(source: Path) -> dict[str, str]:
    """`Type?identifier=system|value` -> original id, for the information bundles."""
    found: dict[str, str] = {}
    for path in bundle_files(source):
        if not path.name.startswith("0-"):
            continue
        for e in orjson.loads(bz2.decompress(path.read_bytes()))["entry"]:
            resource = e["resource"]
            for ident in resource.get("identifier", []):
                key = (
                    f"{resource['resourceType']}?identifier={ident.get('system')}|{ident['value']}"
                )
                found[key] = resource["id"]
    return found


def _init_worker(by_identifier: dict[str, str]) -> None:
    global _extractor, _by_identifier
    _extractor = IndexExtractor(SearchParameterRegistry.load_default())
    _by_identifier = by_identifier


def _rewrite(node: Any, local: dict[str, str], suffix: str) -> Any:
    """`node` with every `reference` pointing at the same copy's resources."""
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "reference" and isinstance(value, str):
                value = _target(value, local, suffix)
            elif isinstance(value, dict | list):
                value = _rewrite(value, local, suffix)
            out[key] = value
        return out
    if isinstance(node, list):
        return [_rewrite(x, local, suffix) for x in node]
    return node


def _target(reference: str, local: dict[str, str], suffix: str) -> str:
    if reference.startswith("urn:uuid:"):
        found = local.get(reference)
        return f"{found}{suffix}" if found else reference
    if "?identifier=" in reference:
        original = _by_identifier.get(reference)
        if original is not None:
            return f"{reference.split('?', 1)[0]}/{original}{suffix}"
    return reference


def prepare(task: tuple[Path, int, int]) -> list[Encoded]:
    """One bundle in every copy: rewritten, stamped, serialised and indexed.

    Copy 0 is indexed by the extractor; the other copies are derived from it by
    swapping the id suffix and the lastUpdated instant in the body and the index, which
    gives the same result as extracting each copy (only ids carry the suffix) at a
    fraction of the cost.
    """
    path, copies, first_tick = task
    assert _extractor is not None
    entries = orjson.loads(bz2.decompress(path.read_bytes()))["entry"]
    local = {
        e["fullUrl"]: f"{e['resource']['resourceType']}/{e['resource']['id']}" for e in entries
    }
    out: list[Encoded] = []
    for n, e in enumerate(entries):
        resource = _rewrite(e["resource"], local, _suffix(0))
        id0 = resource["id"] + _suffix(0)
        when0 = _instant(first_tick + n)
        served = stamped(resource, id0, 1, when0)
        body0 = orjson.dumps(served)
        index0 = _encode_index(_extractor.extract(served))
        instant0 = fhir_instant(when0).encode()
        for copy in range(copies):
            tick = first_tick + n + copy * len(entries)
            when = _instant(tick)
            old, new = _suffix(0), _suffix(copy)
            body = body0.replace(f'{old}"'.encode(), f'{new}"'.encode()).replace(
                instant0, fhir_instant(when).encode()
            )
            index = index0 if copy == 0 else _swap_suffix(index0, old, new)
            out.append((served["resourceType"], id0[: -len(old)] + new, tick, body, index))
    return out


def _suffix(copy: int) -> str:
    return f"-c{copy:02d}"


def _instant(tick: int) -> datetime:
    return T0 + timedelta(microseconds=tick)


# The index crosses the process boundary as plain tuples: pickling slotted dataclasses
# goes through Python-level __getstate__ and costs more than extracting the index.
_INDEX_FIELDS = tuple(f.name for f in fields(ResourceIndex))
_VALUE_CLASSES = {
    "tokens": TokenValue,
    "strings": StringValue,
    "ranges": RangeValue,
    "quantities": QuantityValue,
    "references": ReferenceValue,
    "uris": UriValue,
    "composites": CompositeValue,
    "sorts": SortValue,
}


def _encode_index(index: ResourceIndex) -> tuple:
    encoded = []
    for name in _INDEX_FIELDS:
        values = getattr(index, name)
        cls = _VALUE_CLASSES.get(name)
        if cls is None:  # compartments: plain strings
            encoded.append(tuple(values))
        else:
            slots = cls.__slots__
            encoded.append(tuple(tuple(getattr(v, s) for s in slots) for v in values))
    return tuple(encoded)


def _decode_index(encoded: tuple) -> ResourceIndex:
    parts = {}
    for name, values in zip(_INDEX_FIELDS, encoded, strict=True):
        cls = _VALUE_CLASSES.get(name)
        parts[name] = list(values) if cls is None else [cls(*v) for v in values]
    return ResourceIndex(**parts)


def _swap_suffix(value: Any, old: str, new: str) -> Any:
    if isinstance(value, tuple):
        return tuple(_swap_suffix(v, old, new) for v in value)
    if isinstance(value, str) and value.endswith(old):
        return value[: -len(old)] + new
    return value


def tasks(files: list[Path], copies: int) -> Iterator[tuple[Path, int, int]]:
    tick = 0
    for path in files:
        yield path, copies, tick
        tick += 10_000_000  # room for every copy of any bundle's entries


def generate(out: Path, copies: int, workers: int, batch: int) -> None:
    partial = out.with_name(out.name + ".partial")
    for stale in out.parent.glob(partial.name + "*"):
        stale.unlink()
    files = bundle_files(SOURCE)
    store = SQLiteStore(str(partial), synchronous="OFF")
    _drop_secondary_indexes(partial)
    started = time.perf_counter()
    written = 0
    pending: list[Write] = []

    def flush() -> None:
        nonlocal written
        with store.session(write=True) as session:
            # the index b-trees outgrow the default cache; misses dominate the load
            session.conn.execute("PRAGMA cache_size = -4000000")
            session.write(pending)
        written += len(pending)
        pending.clear()

    with mp.get_context("fork").Pool(
        workers, initializer=_init_worker, initargs=(identifier_map(SOURCE),)
    ) as pool:
        for prepared in pool.imap(prepare, tasks(files, copies), chunksize=1):
            for type_, id_, tick, body, index in prepared:
                record = StoredRecord(type_, id_, 1, _instant(tick), False, body, "POST")
                pending.append(Write(record, _decode_index(index), expected_version=None))
            if len(pending) >= batch:
                flush()
                rate = written / (time.perf_counter() - started)
                print(f"\r{written:,} resources, {rate:,.0f}/s", end="", flush=True)
    if pending:
        flush()
    print(f"\n{written:,} resources in {time.perf_counter() - started:.0f}s; analysing")
    store.close()
    print("building indexes")
    SQLiteStore(str(partial)).close()  # its schema DDL recreates the dropped indexes
    conn = sqlite3.connect(partial)
    conn.execute("ANALYZE")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    partial.rename(out)
    print(f"{out} ready in {time.perf_counter() - started:.0f}s")


def _drop_secondary_indexes(path: Path) -> None:
    """Bulk loads go several times faster when the b-trees are built once, sorted, at the end.

    Only the schema's own CREATE INDEX statements are dropped (UNIQUE constraints stay,
    the write path needs them) and reopening the store recreates them.
    """
    conn = sqlite3.connect(path)
    names = [
        row[0]
        for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
        )
    ]
    for name in names:
        conn.execute(f'DROP INDEX "{name}"')
    conn.close()


def default_path(copies: int) -> Path:
    return OUT / f"synthea-x{copies}.db"


def ensure(copies: int, workers: int = 2, batch: int = 5000) -> Path:
    """The cached database for `copies`, generated first if missing."""
    out = default_path(copies)
    if not out.exists():
        out.parent.mkdir(parents=True, exist_ok=True)
        generate(out, copies, workers, batch)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--copies", type=int, default=11, help="11 copies = 1,013,254 resources")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--batch", type=int, default=5000, help="resources per write session")
    parser.add_argument("--force", action="store_true", help="regenerate even if cached")
    args = parser.parse_args()
    out = default_path(args.copies)
    if args.force and out.exists():
        out.unlink()
    path = ensure(args.copies, args.workers, args.batch)
    print(path)


if __name__ == "__main__":
    main()
