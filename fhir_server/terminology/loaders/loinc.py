"""LOINC from `Loinc.csv` (the LOINC table core file of a LOINC release, comma-separated,
quoted, with a header row). Every row is loaded, with its STATUS as a property, so that
deprecated codes in old records still look up; LOINC has no is-a parents in this file.

Display: LONG_COMMON_NAME; designations: SHORTNAME and DisplayName (when the release
has that column); properties: the six axes, CLASS, STATUS and ORDER_OBS.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

from fhir_server.storage.terminology_base import StoredConcept, TerminologyStore
from fhir_server.terminology.loaders.common import LoadResult, Progress, concept, load_system

URL = "http://loinc.org"
REQUIRED = ("LOINC_NUM", "LONG_COMMON_NAME")
PROPERTIES = (
    "COMPONENT", "PROPERTY", "TIME_ASPCT", "SYSTEM", "SCALE_TYP", "METHOD_TYP", "CLASS",
    "STATUS", "ORDER_OBS",
)  # fmt: skip


def read_loinc(path: Path) -> Iterator[StoredConcept]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{path} is not a Loinc.csv: no column {', '.join(missing)}")
        for row in reader:
            designations = tuple(
                ("en", use, row[column])
                for column, use in (("SHORTNAME", "short"), ("DisplayName", "display"))
                if row.get(column)
            )
            properties = tuple((p, row[p]) for p in PROPERTIES if row.get(p))
            yield concept(row["LOINC_NUM"], row["LONG_COMMON_NAME"], designations, properties)


def load_loinc(
    store: TerminologyStore, path: Path, version: str | None, progress: Progress | None = None
) -> LoadResult:
    return load_system(store, URL, version, "LOINC", read_loinc(path), progress)
