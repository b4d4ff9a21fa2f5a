"""Words for type-ahead matching: the same normalisation as string search, split on
punctuation, so "Diabetes mellitus, type 2" is found by "diab", "mel" or "type 2"."""

from __future__ import annotations

import re
from collections.abc import Iterable

from fhir_server.search.normalize import normalize_text

# split on spaces and ASCII punctuation only: Devanagari vowel signs and viramas are
# not word characters to `\w`, so a `\W` split would cut Hindi words apart
_SEPARATORS = re.compile(r"[\s!-/:-@\[-`{-~]+")


def words(text: str | None) -> list[str]:
    if not text:
        return []
    return [w for w in _SEPARATORS.split(normalize_text(text)) if w]


def concept_words(display: str | None, designations: Iterable[str] = ()) -> tuple[str, ...]:
    found: dict[str, None] = dict.fromkeys(words(display))
    for value in designations:
        found.update(dict.fromkeys(words(value)))
    return tuple(found)


def matches(query: list[str], candidates: Iterable[str]) -> bool:
    """Every query word is a prefix of some candidate word."""
    pool = list(candidates)
    return all(any(c.startswith(q) for c in pool) for q in query)
