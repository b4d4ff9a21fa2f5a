"""SNOMED CT from an RF2 release folder (International or a national edition).

Reads `sct2_Concept_*`, `sct2_Description_*` and `sct2_Relationship_*` (not the
stated relationships) anywhere under the folder, preferring Snapshot files; Full files
work too (the row with the latest effectiveTime per id wins). Only active concepts,
descriptions and is-a (116680003) relationships are kept.

Display: the fully specified name without its semantic tag ("Diabetes mellitus
(disorder)" -> "Diabetes mellitus"): choosing the preferred term needs a language refset,
which this loader does not read. Every FSN and synonym is a designation, so type-ahead
finds a concept by any of its synonyms.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from pathlib import Path

from fhir_server.storage.terminology_base import StoredConcept, TerminologyStore
from fhir_server.terminology.loaders.common import LoadResult, Progress, concept, load_system

URL = "http://snomed.info/sct"
IS_A = "116680003"
FSN = "900000000000003001"
SYNONYM = "900000000000013009"
_USES = {FSN: "900000000000003001", SYNONYM: "900000000000013009"}
_TAG = re.compile(r"\s*\([^()]*\)$")


def _file(folder: Path, prefix: str) -> Path:
    found = sorted(folder.rglob(f"{prefix}*.txt"))
    snapshot = [p for p in found if "Snapshot" in p.name]
    chosen = snapshot or found
    if not chosen:
        raise ValueError(f"no {prefix}*.txt file under {folder}")
    return chosen[0]


def _latest(path: Path) -> Iterator[dict[str, str]]:
    """Rows of an RF2 file, one per id (the latest effectiveTime)."""
    latest: dict[str, dict[str, str]] = {}
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE):
            held = latest.get(row["id"])
            if held is None or row["effectiveTime"] >= held["effectiveTime"]:
                latest[row["id"]] = row
    return iter(latest.values())


def read_snomed(folder: Path) -> Iterator[StoredConcept]:
    active = {row["id"] for row in _latest(_file(folder, "sct2_Concept_")) if row["active"] == "1"}
    names: dict[str, list[tuple[str, str, str]]] = {}
    for row in _latest(_file(folder, "sct2_Description_")):
        if row["active"] == "1" and row["conceptId"] in active and row["typeId"] in _USES:
            names.setdefault(row["conceptId"], []).append(
                (row["languageCode"], _USES[row["typeId"]], row["term"])
            )
    parents: dict[str, list[str]] = {}
    for row in _latest(_file(folder, "sct2_Relationship_")):
        if row["active"] == "1" and row["typeId"] == IS_A and row["sourceId"] in active:
            parents.setdefault(row["sourceId"], []).append(row["destinationId"])
    for code in sorted(active):
        designations = tuple(sorted(names.get(code, ()), key=lambda d: (d[1] != FSN, d[2])))
        fsn = next((d[2] for d in designations if d[1] == FSN), None)
        display = _TAG.sub("", fsn) if fsn else None
        yield concept(code, display, designations, (), tuple(sorted(parents.get(code, ()))))


def load_snomed(
    store: TerminologyStore, folder: Path, version: str | None, progress: Progress | None = None
) -> LoadResult:
    return load_system(store, URL, version, "SNOMED CT", read_snomed(folder), progress)
