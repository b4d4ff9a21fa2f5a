"""Stream stored records into NDJSON files, one type after another, and build the manifest.

Records carry the JSON exactly as served (`StoredRecord.body`, compact, one line), so a
line is the stored bytes plus a newline: nothing is parsed or re-serialised, and memory
stays flat whatever the export size (one buffered file open at a time). A file is
written under a `.part` name, flushed to disk and renamed when complete, so a name
without `.part` is always a whole file.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from fhir_server.bulk_export.files import ndjson_name
from fhir_server.instants import fhir_instant
from fhir_server.storage.records import StoredRecord

NDJSON = "application/fhir+ndjson"
_BUFFER = 1 << 20
PROGRESS_EVERY = 2_000  # records between progress callbacks / cancel checks


class ExportCancelled(Exception):
    """The job was cancelled (DELETE on its status URL) while files were being written."""


@dataclass(slots=True)
class OutputFile:
    type: str
    name: str
    count: int


@dataclass(slots=True)
class Progress:
    processed: int = 0
    current_type: str = ""


class _Part:
    """One NDJSON file being written."""

    def __init__(self, folder: Path, type_: str, number: int) -> None:
        self.output = OutputFile(type_, ndjson_name(type_, number), 0)
        self.path = folder / self.output.name
        self.temp = folder / (self.output.name + ".part")
        self.out: IO[bytes] = self.temp.open("wb", buffering=_BUFFER)

    def finish(self) -> OutputFile:
        self.out.flush()
        os.fsync(self.out.fileno())  # the manifest will promise this file is complete
        self.out.close()
        os.replace(self.temp, self.path)
        return self.output

    def discard(self) -> None:
        self.out.close()
        self.temp.unlink(missing_ok=True)


def write_ndjson(
    records: Iterable[StoredRecord],
    folder: Path,
    max_per_file: int,
    progress: Callable[[Progress], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> list[OutputFile]:
    """Write `records` (grouped by type, as `Store.iter_export` yields them) to `folder`.

    A type gets `Type-1.ndjson`, `Type-2.ndjson`, ... of at most `max_per_file` lines.
    Raises ExportCancelled when `cancelled()` turns true.
    """
    folder.mkdir(parents=True, exist_ok=True)
    outputs: list[OutputFile] = []
    parts_of: dict[str, int] = {}
    state = Progress()
    part: _Part | None = None
    try:
        for record in records:
            if (
                part is None
                or part.output.type != record.type
                or (part.output.count >= max_per_file)
            ):
                if part is not None:
                    outputs.append(part.finish())
                number = parts_of[record.type] = parts_of.get(record.type, 0) + 1
                part = _Part(folder, record.type, number)
                state.current_type = record.type
            part.out.write(record.body)
            part.out.write(b"\n")
            part.output.count += 1
            state.processed += 1
            if state.processed % PROGRESS_EVERY == 0:
                if cancelled is not None and cancelled():
                    raise ExportCancelled
                if progress is not None:
                    progress(state)
        if part is not None:
            outputs.append(part.finish())
            part = None
    finally:
        if part is not None:
            part.discard()
    if progress is not None:
        progress(state)
    return outputs


def manifest(
    transaction_time: datetime,
    request_url: str,
    requires_access_token: bool,
    outputs: list[OutputFile],
    url_of: Callable[[OutputFile], str],
) -> dict[str, Any]:
    """The Bulk Data complete-status body (`output` lists every file with its count)."""
    return {
        "transactionTime": fhir_instant(transaction_time),
        "request": request_url,
        "requiresAccessToken": requires_access_token,
        "output": [{"type": o.type, "url": url_of(o), "count": o.count} for o in outputs],
        "error": [],
    }
