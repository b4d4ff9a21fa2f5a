"""The terminology service: what operations, binding checks and `:in`/`:below` search use.

It answers from three kinds of content (see docs/terminology.md): shipped content under
`terminology/` (read-only), CodeSystem/ValueSet/ConceptMap resources stored through the
API, and big code systems loaded into the concept store (`store.terminology`).

Several worker processes share one store. Before answering, the service compares a
cheap *signature* of the stored terminology resources (how many, and the newest one's
lastUpdated/id/version, one indexed count and one single-row keyset read, as for
SearchParameters) and of the loaded concept-store systems with the one it built its
caches from; only a change rebuilds the catalogue and drops the compiled value sets.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from fhir_server.errors import FhirError
from fhir_server.storage.base import Store
from fhir_server.storage.query import SearchQuery, SortKey
from fhir_server.storage.terminology_base import TerminologyStore
from fhir_server.terminology.catalogue import (
    DEFAULT_DIR,
    TERMINOLOGY_TYPES,
    Catalogue,
    load_shipped,
    split_canonical,
    version_key,
)
from fhir_server.terminology.codesystem import (
    ConceptSource,
    InMemoryCodeSystem,
    StoredCodeSystem,
)
from fhir_server.terminology.valuesets import CompiledValueSet, TooCostly

MAX_EXPANSION = 10_000  # codes an unfiltered expansion may hold


@dataclass(frozen=True)
class CodeCheck:
    result: bool  # the code is in the value set / code system
    message: str | None = None  # why not (names the code, system and value set)
    display: str | None = None  # the concept's display when found


class TerminologyService:
    def __init__(
        self,
        store: Store | None,
        shipped: Catalogue | None = None,
        recheck_seconds: float = 0.0,
        max_expansion: int = MAX_EXPANSION,
    ) -> None:
        self.store = store
        self.max_expansion = max_expansion  # codes an unfiltered expansion may hold
        self.concept_store: TerminologyStore | None = getattr(store, "terminology", None)
        self.shipped = shipped if shipped is not None else load_shipped(DEFAULT_DIR)
        self.recheck_seconds = recheck_seconds
        self.catalogue = self.shipped
        self._systems: dict[tuple[str, str | None], ConceptSource] = {}
        self._stored_systems: dict[str, StoredCodeSystem] = {}
        self._compiled: dict[str, CompiledValueSet] = {}
        self._implicit: dict[str, str] = {}  # CodeSystem.valueSet -> system url
        self._signature: Any = object()
        self._checked_at = -1e18
        self._lock = threading.Lock()
        self._rebuild(self.shipped, [])

    @classmethod
    def for_store(
        cls,
        store: Store | None,
        folder: Path | None = None,
        recheck_seconds: float = 0.0,
        max_expansion: int = MAX_EXPANSION,
    ) -> TerminologyService:
        return cls(store, load_shipped(folder or DEFAULT_DIR), recheck_seconds, max_expansion)

    # -- keeping in step with the store ------------------------------------------
    def refresh(self, force: bool = False) -> None:
        if self.store is None:
            return
        now = time.monotonic()
        if not force and now - self._checked_at < self.recheck_seconds:
            return
        with self._lock:
            signature = self._read_signature()
            if force or signature != self._signature:
                catalogue = self.shipped.copy()
                for type_ in TERMINOLOGY_TYPES:
                    for record in self.store.iter_current(type_):
                        resource = orjson.loads(record.body)
                        catalogue.add(resource, shipped=False, source=f"{type_}/{record.id}")
                stored = self.concept_store.systems() if self.concept_store else []
                self._rebuild(catalogue, stored)
                self._signature = signature
            self._checked_at = now

    def _read_signature(self) -> Any:
        assert self.store is not None
        with self.store.session() as session:
            page = session.search(
                SearchQuery(
                    types=TERMINOLOGY_TYPES,
                    sort=(SortKey("_lastUpdated", descending=True),),
                    count=1,
                    total="accurate",
                )
            )
        newest = page.records[0] if page.records else None
        resources = (
            page.total or 0,
            newest and (newest.last_updated.isoformat(), newest.type, newest.id, newest.version),
        )
        systems = self.concept_store.systems() if self.concept_store else []
        return resources, tuple(sorted((s.url, s.version, s.count) for s in systems))

    def _rebuild(self, catalogue: Catalogue, stored: list[Any]) -> None:
        self._stored_systems = {
            s.url: StoredCodeSystem(self.concept_store, s.url, s.version, s.name)  # type: ignore[arg-type]
            for s in stored
        }
        self._implicit = {
            entry.resource["valueSet"]: entry.resource["url"]
            for entry in catalogue.entries("CodeSystem")
            if isinstance(entry.resource.get("valueSet"), str)
        }
        self._supplements: dict[str, dict[str | None, list[dict[str, Any]]]] = {}
        for entry in catalogue.entries("CodeSystem"):
            target = entry.resource.get("supplements")
            if entry.resource.get("content") == "supplement" and isinstance(target, str):
                url, version = split_canonical(target)
                self._supplements.setdefault(url, {}).setdefault(version, []).append(entry.resource)
        self.catalogue = catalogue
        self._systems = {}
        self._compiled = {}

    # -- resolution ----------------------------------------------------------------
    def code_system(self, url: str, version: str | None = None) -> ConceptSource | None:
        base, pinned = split_canonical(url)
        version = version or pinned
        key = (base, version)
        source = self._systems.get(key)
        if source is not None:
            return source
        entry = self.catalogue.resolve("CodeSystem", f"{base}|{version}" if version else base)
        content = entry.resource.get("content", "complete") if entry else None
        stored = self._stored_systems.get(base)
        if stored is not None and (version is not None and version != stored.version):
            stored = None
        # a full release loaded into the concept store wins over a shipped fragment
        # (the curated LOINC / ICD-10 subsets)
        if entry is not None and (content == "complete" or (content == "fragment" and not stored)):
            version_of = entry.resource.get("version")
            supplements = self._supplements.get(base, {})
            source = InMemoryCodeSystem(
                entry.resource, supplements.get(version_of, []) + supplements.get(None, [])
            )
        elif stored is not None:
            source = stored
        if source is not None:
            self._systems[key] = source
        return source

    def value_set_resource(self, url: str) -> dict[str, Any] | None:
        entry = self.catalogue.resolve("ValueSet", url)
        if entry is not None:
            return entry.resource
        return self._implicit_value_set(url)

    def _implicit_value_set(self, url: str) -> dict[str, Any] | None:
        # http://snomed.info/sct?fhir_vs (all), ?fhir_vs=isa/<code>, CodeSystem.valueSet
        base, version = split_canonical(url)
        # a pinned version must name a real ValueSet version, not the system's implicit one
        system, filter_ = (self._implicit.get(base) if version is None else None), None
        if system is None and "?fhir_vs" in base:
            system, _, query = base.partition("?fhir_vs")
            if query.startswith("=isa/"):
                filter_ = {"property": "concept", "op": "is-a", "value": query[5:]}
            elif query:
                return None
        if system is None or self.code_system(system) is None:
            return None
        include: dict[str, Any] = {"system": system}
        if filter_:
            include["filter"] = [filter_]
        return {"resourceType": "ValueSet", "url": base, "compose": {"include": [include]}}

    def compiled(self, url: str) -> CompiledValueSet:
        found = self._compiled.get(url)
        if found is not None:
            return found
        resource = self.value_set_resource(url)
        if resource is None:
            raise FhirError(404, "not-found", f"ValueSet {url} is not known to this server")
        found = CompiledValueSet(url, resource.get("version"), resource, self).compile()
        self._compiled[url] = found
        return found

    def compile_inline(self, resource: dict[str, Any]) -> CompiledValueSet:
        return CompiledValueSet(
            resource.get("url", "(inline ValueSet)"), resource.get("version"), resource, self
        ).compile()

    def concept_map_resource(self, url: str) -> dict[str, Any] | None:
        entry = self.catalogue.resolve("ConceptMap", url)
        return entry.resource if entry else None

    def concept_maps(self) -> list[dict[str, Any]]:
        latest: dict[str, dict[str, Any]] = {}
        for entry in self.catalogue.entries("ConceptMap"):
            url = entry.resource["url"]
            held = latest.get(url)
            if held is None or version_key(entry.resource.get("version")) > version_key(
                held.get("version")
            ):
                latest[url] = entry.resource
        return list(latest.values())

    # -- the contract the binding checks and token modifiers use -------------------
    def has_value_set(self, url: str) -> bool:
        self.refresh()
        return self.value_set_resource(url) is not None

    def validate_code(
        self, value_set: str, system: str | None, code: str, display: str | None = None
    ) -> CodeCheck:
        self.refresh()
        return self.check_in(self.compiled(value_set), system, code, display)

    def check_in(
        self, compiled: CompiledValueSet, system: str | None, code: str, display: str | None
    ) -> CodeCheck:
        member, why = compiled.find(system, code)
        where = f"from system '{system}' " if system else ""
        if member is None:
            reason = f" ({why})" if why else ""
            return CodeCheck(
                False,
                f"The code '{code}' {where}is not in the value set '{compiled.label}'{reason}",
            )
        if display and not _display_matches(member, display):
            return CodeCheck(
                True,
                f"The display '{display}' is not a display of code '{code}' {where}"
                f"(expected '{member.display}')",
                member.display,
            )
        return CodeCheck(True, None, member.display)

    def expand_codes(self, value_set: str, max_codes: int = MAX_EXPANSION) -> list[tuple[str, str]]:
        self.refresh()
        compiled = self.compiled(value_set)
        try:
            page = compiled.expand((), 0, max_codes + 1, max_codes)
        except TooCostly as exc:
            raise too_costly(compiled.label, exc.size, max_codes) from exc
        if page.total > max_codes:
            raise too_costly(compiled.label, page.total, max_codes)
        return [(m.system, m.code) for m in page.members]

    def descendants(self, system: str, code: str) -> list[str]:
        self.refresh()
        source = self.code_system(system)
        found = source.descendants(code) if source is not None else []
        return found or [code]

    def ancestors(self, system: str, code: str) -> list[str]:
        self.refresh()
        source = self.code_system(system)
        found = source.ancestors(code) if source is not None else []
        return found or [code]

    def require_code_system(self, url: str, version: str | None = None) -> ConceptSource:
        source = self.code_system(url, version)
        if source is None:
            label = f"{url}|{version}" if version else url
            raise FhirError(404, "not-found", f"CodeSystem {label} is not known to this server")
        return source


def too_costly(label: str, size: int, limit: int) -> FhirError:
    return FhirError(
        422,
        "too-costly",
        f"ValueSet {label} has {size:,}+ codes, more than the {limit:,} an expansion may hold;"
        " use a filter (and count/offset)",
    )


def _display_matches(member: Any, display: str) -> bool:
    wanted = display.strip().casefold()
    if member.display and member.display.strip().casefold() == wanted:
        return True
    designations = member.concept.designations if member.concept else ()
    return any(d[2].strip().casefold() == wanted for d in designations)
