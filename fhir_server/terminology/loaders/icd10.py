"""ICD-10 from a tab-separated file: `code <TAB> title [<TAB> parent]`, one line each,
UTF-8, no header (a first line starting with `code` is skipped as a header). This is
what WHO's ICD-10 code/title export and the national code lists reduce to with one cut.

Chapters (e.g. `IV`) and blocks (e.g. `E10-E14`) are lines too. A line's parent is its
third column when given; otherwise it is derived: `E11.9` -> `E11` (the code before the
dot), and a three-character category -> the block of the file whose range holds it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from fhir_server.storage.terminology_base import StoredConcept, TerminologyStore
from fhir_server.terminology.loaders.common import LoadResult, Progress, concept, load_system

URL = "http://hl7.org/fhir/sid/icd-10"


def read_icd10(path: Path) -> Iterator[StoredConcept]:
    rows: list[tuple[str, str, str | None]] = []
    with path.open(encoding="utf-8-sig") as handle:
        for number, line in enumerate(handle, 1):
            parts = line.rstrip("\r\n").split("\t")
            if not parts[0] or (number == 1 and parts[0].lower() == "code"):
                continue
            if len(parts) < 2:
                raise ValueError(f"{path}:{number}: expected code<TAB>title[<TAB>parent]")
            parent = parts[2].strip() if len(parts) > 2 and parts[2].strip() else None
            rows.append((parts[0].strip(), parts[1].strip(), parent))
    blocks = [(c.split("-")[0], c.split("-")[1], c) for c, _, _ in rows if "-" in c]
    for code, title, parent in rows:
        if parent is None and "." in code:
            parent = code.split(".")[0]
        elif parent is None and len(code) == 3 and "-" not in code:
            parent = next((b for low, high, b in blocks if low <= code <= high), None)
        yield concept(code, title, parents=(parent,) if parent else ())


def load_icd10(
    store: TerminologyStore, path: Path, version: str | None, progress: Progress | None = None
) -> LoadResult:
    return load_system(store, URL, version, "ICD-10", read_icd10(path), progress)
