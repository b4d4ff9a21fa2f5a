"""FHIRPath search expressions compiled to plain Python accessors over resource dicts.

Search parameter expressions are almost all of a few shapes: a path (`Observation.code`),
a union of paths (`a | b`), a filter (`.where(type='x')`, `.where(resolve() is Patient)`),
a type choice (`(Observation.value as Quantity)`, `value.as(Range)`, `.ofType(x)`). Those
are compiled once into chains of small functions that walk the JSON dict directly, which is
what keeps indexing cheap. Anything else is handed to `fhirpathpy` (slow but complete).

An accessor takes (node, resource) and returns the list of matching JSON values; for a
whole-resource expression node is the resource itself. Union branches rooted at another
resource type are dropped when compiling for a type, so `AllergyIntolerance.code |
Condition.code | ...` costs one dict lookup on a Condition.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

from fhir_server.search.references import reference_type

Accessor = Callable[[Any, dict], list]
Step = Callable[[list], list]

_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_TYPE_NAME_RE = re.compile(r"[A-Z][A-Za-z0-9]*")
_CAST_BRANCH_RE = re.compile(r"\((.+) as ([A-Za-z][A-Za-z0-9]*)\)(.*)", re.DOTALL)
_RESOLVE_IS_RE = re.compile(r"where\(\s*resolve\(\)\s+is\s+([A-Z][A-Za-z0-9]*)\s*\)")
_WHERE_EQ_RE = re.compile(r"where\(\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*'((?:[^'\\]|\\.)*)'\s*\)")
_CAST_FN_RE = re.compile(r"(?:as|ofType)\(\s*([A-Za-z][A-Za-z0-9]*)\s*\)")
_EXTENSION_RE = re.compile(r"extension\(\s*'((?:[^'\\]|\\.)*)'\s*\)")
COMMON_ROOTS = frozenset({"Resource", "DomainResource"})


class Unsupported(Exception):
    """The expression uses a form the compiler does not handle (use the engine)."""


def split_top_level(text: str, sep: str) -> list[str]:
    """Split on `sep` outside parentheses and string literals."""
    parts: list[str] = []
    depth = 0
    quote = False
    start = 0
    i = 0
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\":
                i += 1
            elif ch == "'":
                quote = False
        elif ch == "'":
            quote = True
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == sep and depth == 0:
            parts.append(text[start:i])
            start = i + 1
        i += 1
    parts.append(text[start:])
    return parts


def _flatten(values: list) -> list:
    out: list = []
    for v in values:
        if type(v) is list:
            out.extend(v)
        elif v is not None:
            out.append(v)
    return out


def _field_step(name: str, suffixes: frozenset[str] | None) -> Step:
    if suffixes is None:

        def step(nodes: list) -> list:
            out: list = []
            for node in nodes:
                if type(node) is dict:
                    v = node.get(name)
                    if v is not None:
                        if type(v) is list:
                            out.extend(v)
                        else:
                            out.append(v)
            return out

        return step

    cut = len(name)
    keys = tuple(name + suffix for suffix in sorted(suffixes))

    def find_choice(node: dict) -> Any:
        # Few allowed types: probe each key; many (value[x] has 50): scan the node's keys.
        if len(keys) <= 8:
            for key in keys:
                v = node.get(key)
                if v is not None:
                    return v
            return None
        for key, value in node.items():
            if key.startswith(name) and key[cut:] in suffixes:
                return value
        return None

    def choice_step(nodes: list) -> list:
        out: list = []
        for node in nodes:
            if type(node) is not dict:
                continue
            v = node.get(name)
            if v is None:
                v = find_choice(node)
                if v is None:
                    continue
            if type(v) is list:
                out.extend(v)
            else:
                out.append(v)
        return out

    return choice_step


def _typed_field_step(name: str, type_name: str) -> Step:
    key = name + type_name[0].upper() + type_name[1:]

    def step(nodes: list) -> list:
        out: list = []
        for node in nodes:
            if type(node) is dict:
                # A non-choice element of that type is stored under its plain name.
                v = node.get(key)
                if v is None:
                    v = node.get(name)
                if v is not None:
                    if type(v) is list:
                        out.extend(v)
                    else:
                        out.append(v)
        return out

    return step


def _where_eq_step(field: str, literal: str) -> Step:
    def step(nodes: list) -> list:
        return [n for n in nodes if type(n) is dict and n.get(field) == literal]

    return step


def _resolve_is_step(type_name: str) -> Step:
    def step(nodes: list) -> list:
        return [n for n in nodes if type(n) is dict and reference_type(n) == type_name]

    return step


def _first_step(nodes: list) -> list:
    return nodes[:1]


def _tokens(path: str) -> list[str]:
    tokens = [t.strip() for t in split_top_level(path, ".")]
    if any(not t for t in tokens):
        raise Unsupported(path)
    return tokens


def _compile_branch(
    branch: str, resource_type: str | None, choices: Mapping[str, frozenset[str]]
) -> tuple[bool, list[Step]] | None:
    """(rooted, steps) for one union branch; None when rooted at another type."""
    branch = branch.strip()
    tokens: list[str]
    m = _CAST_BRANCH_RE.fullmatch(branch)
    if m is not None:
        inner, cast, rest = m.groups()
        tokens = [*_tokens(inner), f"as({cast})"]
        rest = rest.strip()
        if rest:
            if not rest.startswith("."):
                raise Unsupported(branch)
            tokens += _tokens(rest[1:])
    else:
        tokens = _tokens(branch)
    rooted = False
    first = tokens[0]
    if first == "%resource":
        rooted = True
        tokens = tokens[1:]
    elif _TYPE_NAME_RE.fullmatch(first) and first[0].isupper():
        if first != resource_type and first not in COMMON_ROOTS and resource_type is not None:
            return None
        rooted = True
        tokens = tokens[1:]
    steps: list[Step] = []
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
        cast = _CAST_FN_RE.fullmatch(nxt)
        if _NAME_RE.fullmatch(tok):
            if cast is not None:
                steps.append(_typed_field_step(tok, cast.group(1)))
                i += 2
                continue
            steps.append(_field_step(tok, choices.get(tok)))
        elif (m2 := _RESOLVE_IS_RE.fullmatch(tok)) is not None:
            steps.append(_resolve_is_step(m2.group(1)))
        elif (m2 := _WHERE_EQ_RE.fullmatch(tok)) is not None:
            steps.append(_where_eq_step(m2.group(1), m2.group(2).replace("\\'", "'")))
        elif (m2 := _EXTENSION_RE.fullmatch(tok)) is not None:
            steps.append(_field_step("extension", None))
            steps.append(_where_eq_step("url", m2.group(1).replace("\\'", "'")))
        elif _CAST_FN_RE.fullmatch(tok) is not None:
            pass  # a cast not applied to a named element: values already carry their type
        elif tok == "first()":
            steps.append(_first_step)
        else:
            raise Unsupported(tok)
        i += 1
    return rooted, steps


def _branch_accessor(rooted: bool, steps: list[Step]) -> Accessor:
    if len(steps) == 1:
        only = steps[0]
        if rooted:
            return lambda node, resource: only([resource])
        return lambda node, resource: only([node])

    def run(node: Any, resource: dict) -> list:
        values = [resource if rooted else node]
        for step in steps:
            values = step(values)
            if not values:
                return values
        return values

    return run


@lru_cache(maxsize=1)
def _fhirpath_model() -> dict:
    from fhirpathpy.models import models

    return models["r4"]


def _to_json_value(value: Any) -> Any:
    if value is None or isinstance(value, (str, bool, int, float, dict, list)):
        return value
    return str(value)  # the engine's date/time/quantity objects print as FHIR literals


def engine_accessor(expression: str) -> Accessor:
    """Evaluate with fhirpathpy; `%resource` is bound to the resource."""
    import fhirpathpy

    compiled = fhirpathpy.compile(expression, _fhirpath_model())

    def run(node: Any, resource: dict) -> list:
        try:
            result = compiled(node if node is not None else resource, {"resource": resource})
        except Exception:
            # An expression the engine cannot evaluate on this resource indexes nothing;
            # indexing must never make a valid write fail.
            return []
        return _flatten([_to_json_value(v) for v in result])

    return run


def compile_accessor(
    expression: str,
    resource_type: str | None,
    choices: Mapping[str, frozenset[str]],
) -> Accessor | None:
    """Accessor for `expression` on resources of `resource_type` (None: relative only).

    Returns None when no branch applies to the type (nothing to index).
    """
    accessors: list[Accessor] = []
    for branch in split_top_level(expression, "|"):
        try:
            compiled = _compile_branch(branch, resource_type, choices)
        except Unsupported:
            accessors.append(engine_accessor(branch.strip()))
            continue
        if compiled is not None:
            accessors.append(_branch_accessor(*compiled))
    if not accessors:
        return None
    if len(accessors) == 1:
        return accessors[0]

    def union(node: Any, resource: dict) -> list:
        out: list = []
        for accessor in accessors:
            out.extend(accessor(node, resource))
        return out

    return union
