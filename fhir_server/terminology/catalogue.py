"""Canonical resources by url and version: shipped content and what the API stored.

Shipped content (the `terminology/` folder) is read at start-up and never changes at
run time. It is kept apart from user content: a CodeSystem, ValueSet or ConceptMap
stored through the API with the same url *and* version as a shipped one does not
replace it for terminology operations (shipped content is read-only); with another
version it is simply one more version. `url|version` picks a version; a bare url picks
the latest (versions compare part by part, numbers numerically).
"""

from __future__ import annotations

import functools
import gzip
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

log = logging.getLogger("fhir_server.terminology")

TERMINOLOGY_TYPES = ("CodeSystem", "ValueSet", "ConceptMap")
DEFAULT_DIR = Path(__file__).resolve().parents[2] / "terminology"
_PARTS = re.compile(r"\d+|[^\d.\-]+")


def version_key(version: str | None) -> tuple[Any, ...]:
    if version is None:
        return ((-1, ""),)
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in _PARTS.findall(version))


def split_canonical(url: str) -> tuple[str, str | None]:
    if "|" in url:
        base, version = url.split("|", 1)
        return base, version or None
    return url, None


@dataclass
class Entry:
    resource: dict[str, Any]
    shipped: bool
    source: str  # file name, or Type/id for stored ones


@dataclass
class Catalogue:
    by_url: dict[str, dict[str, dict[str | None, Entry]]] = field(default_factory=dict)

    def add(self, resource: dict[str, Any], shipped: bool, source: str) -> None:
        type_, url = resource.get("resourceType"), resource.get("url")
        if type_ not in TERMINOLOGY_TYPES or not isinstance(url, str):
            return
        versions = self.by_url.setdefault(type_, {}).setdefault(url, {})
        version = resource.get("version")
        held = versions.get(version)
        if held is not None and held.shipped and not shipped:
            log.warning("%s keeps the shipped %s|%s; stored copy ignored", source, url, version)
            return
        versions[version] = Entry(resource, shipped, source)

    def resolve(self, type_: str, canonical: str) -> Entry | None:
        url, version = split_canonical(canonical)
        versions = self.by_url.get(type_, {}).get(url)
        if not versions:
            return None
        if version is not None:
            return versions.get(version)
        return versions[max(versions, key=version_key)]

    def entries(self, type_: str) -> Iterator[Entry]:
        for versions in self.by_url.get(type_, {}).values():
            yield from versions.values()

    def copy(self) -> Catalogue:
        return Catalogue(
            {t: {u: dict(v) for u, v in urls.items()} for t, urls in self.by_url.items()}
        )


def load_shipped(folder: Path = DEFAULT_DIR) -> Catalogue:
    """Every CodeSystem/ValueSet/ConceptMap in `folder` (*.json, *.json.gz, Bundles too).

    Read once per process (every app the tests build would otherwise parse it again);
    each caller gets its own copy of the index, sharing the immutable resources.
    """
    return _read_folder(folder.resolve()).copy()


@functools.lru_cache(maxsize=4)
def _read_folder(folder: Path) -> Catalogue:
    catalogue = Catalogue()
    if not folder.is_dir():
        log.warning("no shipped terminology folder at %s", folder)
        return catalogue
    for path in sorted(folder.rglob("*.json*")):
        if not path.name.endswith((".json", ".json.gz")):
            continue
        raw = path.read_bytes()
        data = orjson.loads(gzip.decompress(raw) if path.name.endswith(".gz") else raw)
        for resource in _resources(data):
            catalogue.add(resource, shipped=True, source=path.name)
    return catalogue


def _resources(data: Any) -> Iterator[dict[str, Any]]:
    if isinstance(data, dict) and data.get("resourceType") == "Bundle":
        for entry in data.get("entry") or []:
            yield from _resources(entry.get("resource"))
    elif isinstance(data, dict):
        yield data
    elif isinstance(data, list):
        for item in data:
            yield from _resources(item)
