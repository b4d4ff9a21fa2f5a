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


def _choice_finder(name: str, suffixes: frozenset[str]) -> Callable[[dict], Any]:
    """Finds `name[x]` in a node: `value` -> the `valueQuantity` (etc.) entry."""
    cut = len(name)
    keys = tuple(name + suffix for suffix in sorted(suffixes))
    if len(keys) <= 8:

        def probe(node: dict) -> Any:
            for key in keys:
                v = node.get(key)
                if v is not None:
                    return v
            return None

        return probe

    def scan(node: dict) -> Any:
        # value[x] allows 50 types: scanning the node's own keys is cheaper than probing.
        for key, value in node.items():
            if key.startswith(name) and key[cut:] in suffixes:
                return value
        return None

    return scan


def _tokens(path: str) -> list[str]:
    tokens = [t.strip() for t in split_top_level(path, ".")]
    if any(not t for t in tokens):
        raise Unsupported(path)
    return tokens


# A parsed step: ("field", name) | ("typed", name, type) | ("eq", field, literal) | ("is", type)
ParsedStep = tuple[str, ...]


def parse_branch(branch: str, resource_type: str | None) -> tuple[bool, list[ParsedStep]] | None:
    """(rooted, steps) of one union branch; None when it is rooted at another type.

    Raises Unsupported for shapes outside the compiled subset.
    """
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
    elif _TYPE_NAME_RE.fullmatch(first):
        if first != resource_type and first not in COMMON_ROOTS and resource_type is not None:
            return None
        rooted = True
        tokens = tokens[1:]
    steps: list[ParsedStep] = []
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
        cast = _CAST_FN_RE.fullmatch(nxt)
        if _NAME_RE.fullmatch(tok):
            if cast is not None:
                steps.append(("typed", tok, cast.group(1)))
                i += 2
                continue
            steps.append(("field", tok))
        elif (m2 := _RESOLVE_IS_RE.fullmatch(tok)) is not None:
            steps.append(("is", m2.group(1)))
        elif (m2 := _WHERE_EQ_RE.fullmatch(tok)) is not None:
            steps.append(("eq", m2.group(1), m2.group(2).replace("\\'", "'")))
        elif (m2 := _EXTENSION_RE.fullmatch(tok)) is not None:
            steps.append(("field", "extension"))
            steps.append(("eq", "url", m2.group(1).replace("\\'", "'")))
        elif _CAST_FN_RE.fullmatch(tok) is not None:
            pass  # a cast not applied to a named element: values already carry their type
        else:
            raise Unsupported(tok)
        i += 1
    return rooted, steps


class _CodeWriter:
    """Generates one Python function for a whole union expression.

    Every name and literal from the expression reaches the source only through repr() or
    after matching an identifier pattern, so a SearchParameter posted by a client cannot
    inject code.
    """

    def __init__(self, choices: Mapping[str, frozenset[str]]) -> None:
        self.choices = choices
        self.lines = ["def accessor(node, resource):", "    out = []"]
        self.namespace: dict[str, Any] = {"_reference_type": reference_type}
        self.counter = 0

    def _const(self, value: Any) -> str:
        self.counter += 1
        name = f"_c{self.counter}"
        self.namespace[name] = value
        return name

    def branch(self, rooted: bool, steps: list[ParsedStep]) -> None:
        cur = "resource" if rooted else "node"
        is_dict = rooted
        depth = 1
        n = len(steps)

        def emit(line: str) -> None:
            self.lines.append("    " * depth + line)

        for i, step in enumerate(steps):
            kind = step[0]
            if kind in ("field", "typed"):
                if not is_dict:
                    emit(f"if type({cur}) is dict:")
                    depth += 1
                v = f"v{self.counter}_{i}"
                if kind == "field":
                    name = step[1]
                    emit(f"{v} = {cur}.get({name!r})")
                    suffixes = self.choices.get(name)
                    if suffixes:
                        finder = self._const(_choice_finder(name, suffixes))
                        emit(f"if {v} is None:")
                        emit(f"    {v} = {finder}({cur})")
                else:
                    name, type_name = step[1], step[2]
                    key = name + type_name[0].upper() + type_name[1:]
                    # A non-choice element of that type is stored under its plain name.
                    emit(f"{v} = {cur}.get({key!r})")
                    emit(f"if {v} is None:")
                    emit(f"    {v} = {cur}.get({name!r})")
                emit(f"if {v} is not None:")
                depth += 1
                if i == n - 1:
                    emit(f"if type({v}) is list:")
                    emit(f"    out.extend({v})")
                    emit("else:")
                    emit(f"    out.append({v})")
                    return
                x = f"x{self.counter}_{i}"
                emit(f"for {x} in ({v} if type({v}) is list else ({v},)):")
                depth += 1
                cur, is_dict = x, False
            elif kind == "eq":
                test = "" if is_dict else f"type({cur}) is dict and "
                emit(f"if {test}{cur}.get({step[1]!r}) == {step[2]!r}:")
                depth += 1
                is_dict = True
            elif kind == "is":
                test = "" if is_dict else f"type({cur}) is dict and "
                emit(f"if {test}_reference_type({cur}) == {step[1]!r}:")
                depth += 1
                is_dict = True
        emit(f"out.append({cur})")

    def engine(self, accessor: Accessor) -> None:
        name = self._const(accessor)
        self.lines.append(f"    out.extend({name}(node, resource))")

    def build(self, label: str) -> Accessor:
        self.lines.append("    return out")
        code = compile("\n".join(self.lines) + "\n", f"<search expression {label}>", "exec")
        exec(code, self.namespace)
        return self.namespace["accessor"]


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
    writer = _CodeWriter(choices)
    used = False
    for branch in split_top_level(expression, "|"):
        try:
            parsed = parse_branch(branch, resource_type)
        except Unsupported:
            writer.engine(engine_accessor(branch.strip()))
            used = True
            continue
        if parsed is not None:
            writer.branch(*parsed)
            used = True
    if not used:
        return None
    return writer.build(expression[:80])
