"""Token modifiers that need the terminology service: :in, :not-in, :above, :below.

Each becomes a `TokenIn` over the (system, code) set the service computes
(http://hl7.org/fhir/R4/search.html#token):

- `code:in=VS-url` -> the codes of the ValueSet's expansion; `:not-in` is the `Not` of
  that, with the same meaning as `:not` (a resource with no such code at all matches).
- `code:below=system|code` -> the code and its is-a descendants (subsumed codes);
  `code:above=system|code` -> the code and its is-a ancestors (subsuming codes).

A comma still means OR. Decisions where the spec leaves room:
- `:above`/`:below` need `system|code`: the hierarchy belongs to a code system.
- When the service does not know the code system (or answers 404), `:below`/`:above`
  match the code itself and the search Bundle carries a warning: the only subsumption
  the server can vouch for is a code's own. A known system without the code also gives
  just the code (no warning: the code simply has no relatives there).
- An unknown ValueSet in `:in`/`:not-in` is a 400 naming it (no fallback: matching
  nothing, or everything for `:not-in`, would silently mislead).
- An expansion larger than the service allows (its too-costly error) is passed on.
"""

from __future__ import annotations

from typing import Any

from fhir_server.errors import FhirError, Issue, not_supported
from fhir_server.search import query_values as qv
from fhir_server.storage.query import Not, Nothing, Or, Predicate, TokenIn

MODIFIERS = frozenset({"in", "not-in", "above", "below"})
MAX_CODES = 10_000  # largest expansion turned into one IN list


def terminology_predicate(
    terminology: Any,
    name: str,
    code: str,
    modifier: str,
    raw_values: list[str],
    warnings: list[Issue],
) -> Predicate:
    """The predicate of `code:modifier=value[,value...]` (`name` as written, for errors)."""
    if terminology is None:
        raise not_supported(
            f"Parameter '{name}': the :{modifier} modifier needs the terminology service,"
            " which this server runs without"
        )
    if modifier in ("in", "not-in"):
        sets = [_value_set_codes(terminology, name, qv.unescape(raw)) for raw in raw_values]
        predicate = _one_of(code, [pair for codes in sets for pair in codes])
        return Not(predicate) if modifier == "not-in" else predicate
    alternatives = [
        _hierarchy(terminology, name, code, modifier, raw, warnings) for raw in raw_values
    ]
    return alternatives[0] if len(alternatives) == 1 else Or(tuple(alternatives))


def _one_of(code: str, pairs: list[tuple[str, str]]) -> Predicate:
    unique = tuple(dict.fromkeys(pairs))
    return TokenIn(code, unique) if unique else Nothing()


def _value_set_codes(terminology: Any, name: str, url: str) -> list[tuple[str, str]]:
    if not url:
        raise qv.reject(name, "a ValueSet canonical url is needed")
    if not terminology.has_value_set(url):
        raise FhirError(
            400, "not-found", f"Parameter '{name}': the ValueSet {url!r} is not known here", [name]
        )
    try:
        pairs = terminology.expand_codes(url, max_codes=MAX_CODES)
    except FhirError as error:
        text = error.diagnostics
        raise FhirError(
            error.status,
            error.issues[0].code if error.issues else "processing",
            f"Parameter '{name}': the ValueSet {url!r} cannot be used here: {text}",
            [name],
        ) from error
    return [(system, c) for system, c in pairs if system and c]


def _hierarchy(
    terminology: Any, name: str, code: str, modifier: str, raw: str, warnings: list[Issue]
) -> Predicate:
    system, value, no_system = qv.parse_token(raw, name)
    if not system or no_system or value is None:
        raise qv.reject(name, f"':{modifier}' takes system|code (the hierarchy of a code system)")
    lookup = terminology.descendants if modifier == "below" else terminology.ancestors
    try:
        codes = list(lookup(system, value))
    except FhirError as error:
        if error.status != 404:
            raise
        codes = []
    # the service answers [code] for a system it does not hold: say so when it can tell
    known = getattr(terminology, "code_system", None)
    if known is not None and known(system) is None:
        codes = []
    if not codes:
        codes = [value]
        issue = Issue(
            "warning",
            "not-found",
            f"Parameter '{name}': no hierarchy is known for {system}|{value};"
            f" :{modifier} matched the code itself",
            [name],
        )
        if issue not in warnings:
            warnings.append(issue)
    elif value not in codes:
        codes.append(value)  # a code subsumes itself (the contract includes it anyway)
    return _one_of(code, [(system, c) for c in codes])
