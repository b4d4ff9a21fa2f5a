"""The export folder: one directory per job, its state file, manifest and NDJSON files.

```
{export_dir}/{job id}/state.json      job state + heartbeat (rewritten atomically)
{export_dir}/{job id}/manifest.json   written once, atomically, after every file is complete
{export_dir}/{job id}/cancelled       marker: DELETE asked the owning worker to stop
{export_dir}/{job id}/Observation-1.ndjson ...
```

Job ids and file names come from URLs, so both are checked against strict patterns
before any path is built: nothing a client sends can name a path outside a job folder.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Any

import orjson

from fhir_server.errors import FhirError

STATE = "state.json"
MANIFEST = "manifest.json"
CANCELLED = "cancelled"
JOB_ID = re.compile(r"[0-9a-f]{32}")
FILE_NAME = re.compile(r"[A-Z][A-Za-z]{1,63}-[0-9]{1,6}\.ndjson")


def job_folder(root: Path, job_id: str) -> Path:
    if not JOB_ID.fullmatch(job_id):
        raise FhirError(404, "not-found", f"No export job {job_id!r}")
    return root / job_id


def output_file(root: Path, job_id: str, name: str) -> Path:
    """An existing NDJSON file of a job, or 404."""
    folder = job_folder(root, job_id)
    if not FILE_NAME.fullmatch(name):
        raise FhirError(404, "not-found", f"No export file {name!r}")
    path = folder / name
    if not path.is_file():
        raise FhirError(404, "not-found", f"No export file {name!r} in job {job_id}")
    return path


def ndjson_name(type_: str, part: int) -> str:
    return f"{type_}-{part}.ndjson"


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Replace `path` atomically: readers in any process see the old or the new file whole."""
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(orjson.dumps(data))
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = orjson.loads(path.read_bytes())
    except (FileNotFoundError, NotADirectoryError, orjson.JSONDecodeError):
        return None
    return data if isinstance(data, dict) else None
