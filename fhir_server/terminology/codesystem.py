"""Code systems as the service sees them: one interface over two kinds of content.

`InMemoryCodeSystem` compiles a CodeSystem resource (shipped or stored through the API)
into dictionaries: code -> concept, parent and child links. `StoredCodeSystem` answers
the same questions from the concept store, for systems loaded from full releases.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import Any, Protocol

from fhir_server.storage.terminology_base import StoredConcept, TerminologyStore
from fhir_server.terminology import words as text

Concept = StoredConcept

# CodeSystem.property codes that state a parent (FHIR core and v3 code systems use both)
_PARENT_PROPERTIES = ("parent", "subsumedBy")


class ConceptSource(Protocol):
    url: str
    version: str | None
    name: str | None

    def lookup(self, code: str) -> Concept | None: ...

    def descendants(self, code: str) -> list[str]: ...

    def ancestors(self, code: str) -> list[str]: ...

    def subsumes(self, ancestor: str, descendant: str) -> bool: ...

    def size(self, below: str | None = None) -> int: ...

    def search(
        self, words: Sequence[str], below: str | None, offset: int, count: int
    ) -> tuple[list[Concept], int]: ...

    def concepts(self, below: str | None = None) -> Iterator[Concept]: ...


class InMemoryCodeSystem:
    def __init__(
        self, resource: dict[str, Any], supplements: Sequence[dict[str, Any]] = ()
    ) -> None:
        self.url: str = resource.get("url", "")
        self.version: str | None = resource.get("version")
        self.name: str | None = resource.get("title") or resource.get("name")
        self.resource = resource
        self.case_sensitive = resource.get("caseSensitive", True) is not False
        self.by_code: dict[str, Concept] = {}
        self.children: dict[str, list[str]] = {}
        self._words: dict[str, tuple[str, ...]] = {}
        self._walk(resource.get("concept") or [], None)
        for supplement in supplements:
            self._supplement(supplement.get("concept") or [])
        self._folded = (
            {code.casefold(): code for code in self.by_code} if not self.case_sensitive else {}
        )
        for code, concept in self.by_code.items():
            for parent in concept.parents:
                self.children.setdefault(parent, []).append(code)

    def _walk(self, concepts: list[dict[str, Any]], parent: str | None) -> None:
        for item in concepts:
            code = item.get("code")
            if not isinstance(code, str):
                continue
            parents = [parent] if parent else []
            properties: list[tuple[str, str]] = []
            for prop in item.get("property") or []:
                value = _property_text(prop)
                if prop.get("code") in _PARENT_PROPERTIES and value and value not in parents:
                    parents.append(value)
                elif value is not None:
                    properties.append((prop.get("code", ""), value))
            designations = tuple(
                (d.get("language", ""), (d.get("use") or {}).get("code", ""), d["value"])
                for d in item.get("designation") or []
                if isinstance(d.get("value"), str)
            )
            self.by_code[code] = Concept(
                code=code,
                display=item.get("display"),
                designations=designations,
                properties=tuple(properties),
                parents=tuple(parents),
            )
            self._words[code] = text.concept_words(
                item.get("display"), (d[2] for d in designations)
            )
            self._walk(item.get("concept") or [], code)

    def _supplement(self, concepts: list[dict[str, Any]]) -> None:
        # a supplement adds designations (e.g. Hindi displays) to concepts it names
        for item in concepts:
            concept = self.by_code.get(item.get("code", ""))
            if concept is not None:
                added = tuple(
                    (d.get("language", ""), (d.get("use") or {}).get("code", ""), d["value"])
                    for d in item.get("designation") or []
                    if isinstance(d.get("value"), str)
                )
                self.by_code[concept.code] = replace(
                    concept, designations=concept.designations + added
                )
                self._words[concept.code] = text.concept_words(
                    concept.display, (d[2] for d in concept.designations + added)
                )
            self._supplement(item.get("concept") or [])

    def lookup(self, code: str) -> Concept | None:
        found = self.by_code.get(code)
        if found is None and self._folded:
            original = self._folded.get(code.casefold())
            found = self.by_code.get(original) if original else None
        return found

    def descendants(self, code: str) -> list[str]:
        if code not in self.by_code:
            return []
        seen = {code: None}
        stack = [code]
        while stack:
            for child in self.children.get(stack.pop(), ()):
                if child not in seen:
                    seen[child] = None
                    stack.append(child)
        return list(seen)

    def ancestors(self, code: str) -> list[str]:
        if code not in self.by_code:
            return []
        seen = {code: None}
        stack = [code]
        while stack:
            concept = self.by_code.get(stack.pop())
            for parent in concept.parents if concept else ():
                if parent not in seen:
                    seen[parent] = None
                    stack.append(parent)
        return list(seen)

    def subsumes(self, ancestor: str, descendant: str) -> bool:
        return ancestor in self.ancestors(descendant)

    def size(self, below: str | None = None) -> int:
        return len(self.by_code) if below is None else len(self.descendants(below))

    def concepts(self, below: str | None = None) -> Iterator[Concept]:
        codes = self.by_code if below is None else self.descendants(below)
        return (self.by_code[c] for c in codes)

    def search(
        self, words: Sequence[str], below: str | None, offset: int, count: int
    ) -> tuple[list[Concept], int]:
        query = list(words)
        hits = [c for c in self.concepts(below) if text.matches(query, self._words[c.code])]
        hits.sort(key=lambda c: (len(c.display or ""), c.display or "", c.code))
        return hits[offset : offset + count], len(hits)

    def words_of(self, code: str) -> tuple[str, ...]:
        return self._words.get(code, ())


class StoredCodeSystem:
    def __init__(self, store: TerminologyStore, url: str, version: str | None, name: str | None):
        self.store = store
        self.url = url
        self.version = version
        self.name = name

    def lookup(self, code: str) -> Concept | None:
        return self.store.lookup(self.url, code)

    def descendants(self, code: str) -> list[str]:
        return self.store.descendants(self.url, code)

    def ancestors(self, code: str) -> list[str]:
        return self.store.ancestors(self.url, code)

    def subsumes(self, ancestor: str, descendant: str) -> bool:
        return self.store.subsumes(self.url, ancestor, descendant)

    def size(self, below: str | None = None) -> int:
        return self.store.count_below(self.url, below)

    def concepts(self, below: str | None = None) -> Iterator[Concept]:
        page = self.store.search(self.url, (), below, 0, self.size(below))
        return iter(page.concepts)

    def search(
        self, words: Sequence[str], below: str | None, offset: int, count: int
    ) -> tuple[list[Concept], int]:
        page = self.store.search(self.url, words, below, offset, count)
        return page.concepts, page.total


def _property_text(prop: dict[str, Any]) -> str | None:
    for key, value in prop.items():
        if key.startswith("value"):
            if isinstance(value, dict):  # valueCoding
                return value.get("code")
            if isinstance(value, bool):
                return "true" if value else "false"
            return str(value)
    return None


def designation_for(concept: Concept, language: str | None) -> str | None:
    """The concept's display in `language` (hi matches hi-IN too), else its display."""
    if language:
        wanted = language.lower()
        for lang, _use, value in concept.designations:
            lang = lang.lower()
            if lang == wanted or lang.split("-")[0] == wanted.split("-")[0]:
                return value
    return concept.display
