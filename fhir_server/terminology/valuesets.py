"""ValueSet.compose evaluation: membership ($validate-code) and expansion ($expand).

A value set whose content is small and in memory is *compiled* once into a dict of its
members, so a membership test is one dict look-up. Any other value set (one that draws
on a loaded concept store, e.g. "every SNOMED CT concept below 73211009") is evaluated
rule by rule: each include/exclude asks its code system (an index look-up in the concept
store), and an expansion with a text filter is pushed down to the concept store's word
index when the value set is one include of one system (optionally below one concept).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from fhir_server.errors import FhirError
from fhir_server.terminology import words as text
from fhir_server.terminology.codesystem import (
    Concept,
    ConceptSource,
    InMemoryCodeSystem,
    designation_for,
)

COMPILE_LIMIT = 10_000  # members held in memory per compiled value set


class Resolver(Protocol):
    def code_system(self, url: str, version: str | None = None) -> ConceptSource | None: ...

    def value_set_resource(self, url: str) -> dict[str, Any] | None: ...

    def compiled(self, url: str) -> CompiledValueSet: ...


@dataclass(frozen=True, slots=True)
class Member:
    system: str
    code: str
    display: str | None
    version: str | None = None
    concept: Concept | None = None


@dataclass(slots=True)
class ExpansionPage:
    members: list[Member] = field(default_factory=list)
    total: int = 0


class TooCostly(Exception):
    def __init__(self, size: int) -> None:
        super().__init__(size)
        self.size = size


@dataclass
class CompiledValueSet:
    url: str
    version: str | None
    resource: dict[str, Any]
    resolver: Resolver
    members: dict[tuple[str, str], Member] | None = None  # when small and in memory
    by_code: dict[str, list[Member]] = field(default_factory=dict)
    _words: dict[tuple[str, str], tuple[str, ...]] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"{self.url}|{self.version}" if self.version else self.url

    def compile(self) -> CompiledValueSet:
        if not self.resource.get("compose") and (self.resource.get("expansion") or {}).get(
            "contains"
        ):
            # a pre-expanded value set (as some IGs publish them): its expansion is the list
            members = list(_expansion_members(self.resource["expansion"]["contains"]))
        elif not _in_memory(self.resource, self.resolver, set()):
            return self
        else:
            try:
                members = list(_members(self.resource, self.resolver, COMPILE_LIMIT, None))
            except (TooCostly, FhirError):
                return self
        self.members = {(m.system, m.code): m for m in members}
        for m in members:
            self.by_code.setdefault(m.code, []).append(m)
        return self

    # -- membership ---------------------------------------------------------------
    def find(self, system: str | None, code: str) -> tuple[Member | None, str | None]:
        """The member for (system, code), or None and why not (an unknown system)."""
        if self.members is not None:
            if system is None:
                found = self.by_code.get(code)
                return (found[0] if found else None), None
            return self.members.get((system, code)), None
        return _contains(self.resource, self.resolver, system, code)

    # -- expansion ----------------------------------------------------------------
    def expand(
        self, query: Sequence[str], offset: int, count: int, max_codes: int
    ) -> ExpansionPage:
        if self.members is not None:
            if not query:  # the value set's own order
                hits = list(self.members.values())
            else:  # type-ahead: shortest display first, as the concept store ranks
                hits = [m for m in self.members.values() if self._matches(m, query)]
                hits.sort(key=lambda m: (len(m.display or ""), m.display or "", m.code))
            return ExpansionPage(hits[offset : offset + count], len(hits))
        pushed = _pushdown(self.resource, self.resolver)
        if pushed is not None:
            source, below = pushed
            total = source.size(below) if not query else None
            if total is not None and total > max_codes:
                raise TooCostly(total)
            concepts, total = source.search(query, below, offset, count)
            return ExpansionPage([_member(source, c) for c in concepts], total)
        members = list(_members(self.resource, self.resolver, max_codes, query or None))
        hits = [m for m in members if not query or self._matches(m, query)]
        return ExpansionPage(hits[offset : offset + count], len(hits))

    def _matches(self, member: Member, query: Sequence[str]) -> bool:
        key = (member.system, member.code)
        found = self._words.get(key)
        if found is None:
            designations = member.concept.designations if member.concept else ()
            found = text.concept_words(member.display, (d[2] for d in designations))
            self._words[key] = found
        return text.matches(list(query), found)


def _expansion_members(contains: list[dict[str, Any]]) -> Iterator[Member]:
    for item in contains:
        if item.get("code") and item.get("system") and not item.get("abstract"):
            yield Member(item["system"], item["code"], item.get("display"), item.get("version"))
        yield from _expansion_members(item.get("contains") or [])


def _member(source: ConceptSource, concept: Concept, display: str | None = None) -> Member:
    return Member(source.url, concept.code, display or concept.display, source.version, concept)


def _in_memory(resource: dict[str, Any], resolver: Resolver, seen: set[str]) -> bool:
    compose = resource.get("compose") or {}
    for include in (compose.get("include") or []) + (compose.get("exclude") or []):
        for url in include.get("valueSet") or []:
            if url in seen:
                continue
            seen.add(url)
            imported = resolver.value_set_resource(url)
            if imported is None or not _in_memory(imported, resolver, seen):
                return False
        system = include.get("system")
        if system and not include.get("concept"):
            source = resolver.code_system(system, include.get("version"))
            if not isinstance(source, InMemoryCodeSystem):
                return False
    return True


def _pushdown(
    resource: dict[str, Any], resolver: Resolver
) -> tuple[ConceptSource, str | None] | None:
    """(system, below) when the value set is one system, whole or below one concept."""
    compose = resource.get("compose") or {}
    includes = compose.get("include") or []
    if compose.get("exclude") or len(includes) != 1:
        return None
    include = includes[0]
    if include.get("valueSet") or include.get("concept") or not include.get("system"):
        return None
    filters = include.get("filter") or []
    below = None
    if filters:
        if len(filters) != 1 or filters[0].get("op") != "is-a":
            return None
        if filters[0].get("property") not in ("concept", "code", "parent"):
            return None
        below = filters[0].get("value")
    source = resolver.code_system(include["system"], include.get("version"))
    return (source, below) if source is not None else None


def _members(
    resource: dict[str, Any], resolver: Resolver, limit: int, query: Sequence[str] | None
) -> Iterator[Member]:
    compose = resource.get("compose") or {}
    seen: dict[tuple[str, str], Member] = {}
    for include in compose.get("include") or []:
        for member in _include_members(include, resolver, limit, query):
            seen.setdefault((member.system, member.code), member)
            if len(seen) > limit:
                raise TooCostly(len(seen))
    for exclude in compose.get("exclude") or []:
        for member in _include_members(exclude, resolver, limit * 10, None):
            seen.pop((member.system, member.code), None)
    return iter(seen.values())


def _include_members(
    include: dict[str, Any], resolver: Resolver, limit: int, query: Sequence[str] | None
) -> Iterator[Member]:
    system = include.get("system")
    imported = [resolver.compiled(url) for url in include.get("valueSet") or []]
    if system is None:
        if not imported:
            return
        first, rest = imported[0], imported[1:]
        for member in first.expand(query or (), 0, limit + 1, limit).members:
            if all(other.find(member.system, member.code)[0] for other in rest):
                yield member
        return
    source = resolver.code_system(system, include.get("version"))
    if include.get("concept"):
        for item in include["concept"]:
            concept = source.lookup(item["code"]) if source else None
            display = item.get("display") or (concept.display if concept else None)
            version = source.version if source else include.get("version")
            member = Member(system, item["code"], display, version, concept)
            if all(vs.find(system, member.code)[0] for vs in imported):
                yield member
        return
    if source is None:
        raise FhirError(
            422,
            "not-found",
            f"Code system {system} is not known to this server, so it cannot be expanded",
        )
    filters = include.get("filter") or []
    below = next(
        (f.get("value") for f in filters if f.get("op") in ("is-a", "descendent-of")), None
    )
    if query:
        concepts, size = source.search(query, below, 0, limit + 1)
    else:
        size = source.size(below)
        if size > limit:
            raise TooCostly(size)
        concepts = list(source.concepts(below))
    for concept in concepts:
        if all(_filter_holds(source, concept, f) for f in filters) and all(
            vs.find(system, concept.code)[0] for vs in imported
        ):
            yield _member(source, concept)


def _contains(
    resource: dict[str, Any], resolver: Resolver, system: str | None, code: str
) -> tuple[Member | None, str | None]:
    compose = resource.get("compose") or {}
    for exclude in compose.get("exclude") or []:
        if _include_contains(exclude, resolver, system, code)[0] is not None:
            return None, None
    problem = None
    for include in compose.get("include") or []:
        found, why = _include_contains(include, resolver, system, code)
        if found is not None:
            return found, None
        problem = problem or why
    return None, problem


def _include_contains(
    include: dict[str, Any], resolver: Resolver, system: str | None, code: str
) -> tuple[Member | None, str | None]:
    inc_system = include.get("system")
    if system is not None and inc_system is not None and system != inc_system:
        return None, None
    found: Member | None = None
    for url in include.get("valueSet") or []:
        found, why = resolver.compiled(url).find(system, code)
        if found is None:
            return None, why
    if inc_system is None:
        return found, None
    source = resolver.code_system(inc_system, include.get("version"))
    if include.get("concept"):
        for item in include["concept"]:
            if item.get("code") == code:
                concept = source.lookup(code) if source else None
                display = item.get("display") or (concept.display if concept else None)
                return Member(inc_system, code, display, include.get("version"), concept), None
        return None, None
    if source is None:
        return None, f"code system {inc_system} is not known to this server"
    concept = source.lookup(code)
    if concept is None:
        return None, None
    if all(_filter_holds(source, concept, f) for f in include.get("filter") or []):
        return _member(source, concept), None
    return None, None


def _filter_holds(source: ConceptSource, concept: Concept, rule: dict[str, Any]) -> bool:
    op, prop, value = rule.get("op"), rule.get("property"), rule.get("value", "")
    if op == "is-a":
        return source.subsumes(value, concept.code)
    if op == "descendent-of":
        return concept.code != value and source.subsumes(value, concept.code)
    if op == "is-not-a":
        return not source.subsumes(value, concept.code)
    if op == "generalizes":
        return source.subsumes(concept.code, value)
    if prop in ("concept", "code"):
        actual: list[str] = [concept.code]
    elif prop == "display":
        actual = [concept.display or ""]
    elif prop == "parent":
        actual = list(concept.parents)
    else:
        actual = [v for k, v in concept.properties if k == prop]
    if op == "=":
        return value in actual
    if op == "in":
        return any(v in actual for v in value.split(","))
    if op == "not-in":
        return not any(v in actual for v in value.split(","))
    if op == "regex":
        return any(re.fullmatch(value, v) for v in actual)
    if op == "exists":
        return bool(actual) == (value == "true")
    raise FhirError(400, "not-supported", f"ValueSet filter op {op!r} is not supported")


def expansion_display(member: Member, language: str | None) -> str | None:
    if language and member.concept is not None:
        return designation_for(member.concept, language)
    return member.display
