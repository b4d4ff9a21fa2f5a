"""`fhir-server import`: files and folders of Bundles and NDJSON, through `POST /fhir`'s path.

Every unit of work is a batch/transaction Bundle handed to `process_bundle`, exactly what
`POST /fhir` does with a request body, so an import validates, resolves and indexes the
same way as the API.

- A `.json` / `.json.gz` / `.json.bz2` file holds one batch or transaction Bundle.
- A `.ndjson` (also `.gz` / `.bz2`) file holds one resource per line. Lines go in
  transactions of `NDJSON_CHUNK`: an update (PUT Type/id) for a resource with an id, a
  create (POST) otherwise. A chunk that fails is retried as a batch, so that its good
  lines still load and each bad line is reported by its line number.

Order (the rule the CLI documents): folders are walked recursively; "information"
bundles load first, because patient bundles reference their organisations and
practitioners conditionally (`Practitioner?identifier=...`): files whose name starts with
`0-` or with Synthea's `hospitalInformation` / `practitionerInformation`. Then every other
file. Each group is in sorted path order.
"""

from __future__ import annotations

import bz2
import gzip
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from fhir_server.errors import FhirError
from fhir_server.rest.bundle_post import process_bundle
from fhir_server.rest.context import RequestInfo, ServerContext

BUNDLE_SUFFIXES = (".json", ".json.gz", ".json.bz2")
NDJSON_SUFFIXES = (".ndjson", ".ndjson.gz", ".ndjson.bz2")
NDJSON_CHUNK = 1000  # resources per transaction
_INFORMATION_PREFIXES = ("0-", "hospitalInformation", "practitionerInformation")


@dataclass
class Failure:
    source: str  # file, or file:line for an NDJSON line
    status: int
    diagnostics: str


@dataclass
class ImportSummary:
    files: int = 0
    resources: int = 0  # entries processed successfully
    created: int = 0
    updated: int = 0  # includes unchanged (no-op updates) and ifNoneExist matches
    failures: list[Failure] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        return self.resources / self.seconds if self.seconds > 0 else 0.0


class ImportStopped(Exception):
    """A unit failed and the import was not told to continue."""


Progress = Callable[[ImportSummary, str], None]  # (summary so far, file being read)


def _suffix(path: Path) -> str | None:
    name = path.name.lower()
    return next((s for s in (*NDJSON_SUFFIXES, *BUNDLE_SUFFIXES) if name.endswith(s)), None)


def is_information(path: Path) -> bool:
    """An "information" bundle: others reference what it holds, so it loads first."""
    return path.name.startswith(_INFORMATION_PREFIXES)


def discover(paths: Iterable[Path]) -> list[Path]:
    """The files to load, in load order (see the module docstring)."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files += [p for p in path.rglob("*") if p.is_file() and _suffix(p)]
        elif path.is_file():
            files.append(path)
        else:
            raise FileNotFoundError(f"{path} does not exist")
    unique = list(dict.fromkeys(files))
    return sorted(unique, key=lambda p: (not is_information(p), str(p)))


def _read_bytes(path: Path) -> bytes:
    name = path.name.lower()
    if name.endswith(".gz"):
        return gzip.decompress(path.read_bytes())
    if name.endswith(".bz2"):
        return bz2.decompress(path.read_bytes())
    return path.read_bytes()


@dataclass
class _Unit:
    source: str
    bundle: dict[str, Any]
    lines: list[int] | None = None  # NDJSON line of each entry


def _units(path: Path, data: bytes) -> Iterator[_Unit | Failure]:
    suffix = _suffix(path)
    if suffix is None:
        raise ValueError(f"{path}: not .json, .ndjson (optionally .gz or .bz2)")
    if suffix in BUNDLE_SUFFIXES:
        yield _Unit(str(path), orjson.loads(data))
        return
    entries: list[dict[str, Any]] = []
    lines: list[int] = []
    for number, line in enumerate(data.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            resource = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            yield Failure(f"{path}:{number}", 400, f"not JSON: {exc}")
            continue
        if not isinstance(resource, dict):
            yield Failure(f"{path}:{number}", 400, "a line must hold one resource (an object)")
            continue
        entries.append(_ndjson_entry(resource))
        lines.append(number)
        if len(entries) == NDJSON_CHUNK:
            yield _Unit(str(path), _transaction(entries), lines)
            entries, lines = [], []
    if entries:
        yield _Unit(str(path), _transaction(entries), lines)


def _ndjson_entry(resource: dict[str, Any]) -> dict[str, Any]:
    type_, id_ = resource.get("resourceType"), resource.get("id")
    if isinstance(id_, str) and id_:
        return {"resource": resource, "request": {"method": "PUT", "url": f"{type_}/{id_}"}}
    return {"resource": resource, "request": {"method": "POST", "url": str(type_)}}


def _transaction(entries: list[dict[str, Any]]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "transaction", "entry": entries}


def import_paths(
    ctx: ServerContext,
    paths: Iterable[Path],
    *,
    continue_on_error: bool = False,
    progress: Progress | None = None,
) -> ImportSummary:
    """Load every file; stop at the first failure unless `continue_on_error`."""
    request = RequestInfo(base_url=ctx.settings.base_url or "http://localhost/fhir")
    summary = ImportSummary()
    started = time.perf_counter()
    try:
        for path, data in _prefetched(discover(paths)):
            if progress:
                progress(summary, str(path))
            try:
                for unit in _units(path, data.result()):
                    if isinstance(unit, Failure):
                        summary.failures.append(unit)
                    else:
                        _load(ctx, request, unit, summary)
                    summary.seconds = time.perf_counter() - started
                    if progress:
                        progress(summary, str(path))
            except (OSError, ValueError) as exc:  # unreadable, not JSON, bad compression
                summary.failures.append(Failure(str(path), 400, f"cannot read: {exc}"))
            summary.files += 1
            if summary.failures and not continue_on_error:
                raise ImportStopped()
    except ImportStopped:
        pass
    summary.seconds = time.perf_counter() - started
    return summary


def _prefetched(paths: list[Path]) -> Iterator[tuple[Path, Future[bytes]]]:
    """Each file with its bytes, the next one read and decompressed while the current one
    loads (gzip and bz2 release the GIL, so that costs the loading thread nothing)."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="import-read") as reader:
        ahead: Future[bytes] | None = reader.submit(_read_bytes, paths[0]) if paths else None
        for position, path in enumerate(paths):
            current = ahead
            assert current is not None
            following = position + 1 < len(paths)
            ahead = reader.submit(_read_bytes, paths[position + 1]) if following else None
            yield path, current


def _load(ctx: ServerContext, request: RequestInfo, unit: _Unit, summary: ImportSummary) -> None:
    try:
        result = process_bundle(ctx, request, unit.bundle)
    except FhirError as error:
        if unit.lines is None:
            summary.failures.append(Failure(unit.source, error.status, error.diagnostics))
            return
        # an NDJSON chunk: load its good lines, and report each bad one by its line
        result = process_bundle(ctx, request, {**unit.bundle, "type": "batch"})
    assert result.body is not None
    for index, entry in enumerate(orjson.loads(result.body).get("entry", [])):
        response = entry.get("response", {})
        status = int(response.get("status", "0").split()[0] or 0)
        if status >= 400:
            where = f"#entry[{index}]" if unit.lines is None else f":{unit.lines[index]}"
            source = unit.source + where
            diagnostics = "; ".join(
                issue.get("diagnostics", "")
                for issue in response.get("outcome", {}).get("issue", [])
            )
            summary.failures.append(Failure(source, status, diagnostics))
        else:
            summary.resources += 1
            summary.created += status == 201
            summary.updated += status != 201
