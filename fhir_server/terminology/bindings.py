"""Write-time checks of coded values against their required / extensible bindings.

The binding table (resources/bindings.json, built from the R4 StructureDefinitions by
resources/build_bindings.py) says, per resource type, data type and backbone element,
which JSON keys hold a bound value and which keys lead to one. A resource is walked once
with it: keys that lead nowhere bound are never entered, so the walk costs a few dict
look-ups per element actually present (see docs/bindings.md for figures).

Each bound value becomes (system, code) pairs: a `code` (or string/uri) value is one pair
without a system, a Coding or Quantity one pair, a CodeableConcept one per coding. The
value conforms when any pair is in the value set: for a CodeableConcept that is "at least
one coding from the value set" (R4 terminologies.html#strength). What happens to a value
that does not conform depends on the binding's strength and the settings
`required_bindings` (error | warn | ignore) and `extensible_bindings` (warn | error |
ignore). A CodeableConcept with no coding at all breaks a required binding (there is no
code to be from the value set); under an extensible binding text alone is allowed.

Only value sets the terminology service knows (`has_value_set`) are checked: a binding
to one it cannot expand (BCP-47 languages, BCP-13 mime types, UCUM, ...) is skipped.
Answers are cached per (value set, system, code) until the service's content changes:
the service is asked to look at the store at most every `SYNC_SECONDS` (at once after a
CodeSystem/ValueSet write in this process), so a ValueSet stored at run time counts for
the next write here and within about a second in other worker processes.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, Protocol

import orjson

from fhir_server.errors import FhirError, Issue

log = logging.getLogger("fhir_server.terminology.bindings")

BINDINGS_FILE = Path(__file__).resolve().parents[2] / "resources" / "bindings.json"
CACHE_SECONDS = 60.0
SYNC_SECONDS = 1.0
TERMINOLOGY_TYPES = frozenset({"CodeSystem", "ValueSet"})
MAX_CACHED = 200_000
_EXTENSIONS = ("extension", "modifierExtension")
_MAX_SHOWN = 60

Mode = Literal["error", "warn", "ignore"]
Pair = tuple[str | None, str]  # (system or None, code)


class CodeChecking(Protocol):
    """The part of the terminology service (terminology/service.py) the checks use."""

    def has_value_set(self, url: str) -> bool: ...

    def validate_code(
        self, value_set: str, system: str | None, code: str, display: str | None = None
    ) -> Any: ...  # a CodeCheck: .result, .message


@dataclass(frozen=True, slots=True)
class BoundValue:
    """A value found in a resource under a required or extensible binding."""

    path: str  # FHIRPath-like, e.g. Patient.contact[0].gender
    strength: str  # required | extensible
    value_set: str  # canonical url, no version
    type_code: str  # the element's type: code, Coding, CodeableConcept, Quantity, ...
    value: Any


# [strength or None, value set or None, type code, child table or None]
Entry = tuple[str | None, str | None, str, str | None]


class BindingTable:
    """The compiled binding tables, walked over a resource's JSON."""

    def __init__(self, tables: dict[str, dict[str, Entry]]) -> None:
        self.tables = tables
        self._extension = tables.get("Extension", {})

    @classmethod
    def from_file(cls, path: Path = BINDINGS_FILE) -> BindingTable:
        raw = orjson.loads(path.read_bytes())["tables"]
        return cls(
            {name: {key: tuple(e) for key, e in t.items()} for name, t in raw.items()}  # type: ignore[misc]
        )

    def binding(self, table: str, key: str) -> Entry | None:
        return self.tables.get(table, {}).get(key)

    def bound_values(self, resource: dict[str, Any]) -> Iterator[BoundValue]:
        """Every value under a required/extensible binding, anywhere in the resource."""
        root = resource.get("resourceType")
        table = self.tables.get(root) if isinstance(root, str) else None
        if table is None:
            return iter(())
        found: list[BoundValue] = []
        self._walk(resource, table, root, found)  # type: ignore[arg-type]
        return iter(found)

    def restricted(self, keep: Callable[[str, str], bool]) -> BindingTable:
        """Only the bindings `keep(strength, value_set)` accepts and the keys leading there.

        The checker walks this: bindings it would skip anyway (value sets the service
        does not know, strengths set to ignore) cost nothing, nor do the elements that
        lead only to them (e.g. every Identifier while identifier-use is unknown).
        """
        bound = {
            (name, key)
            for name, table in self.tables.items()
            for key, (strength, value_set, _code, _child) in table.items()
            if strength and value_set and keep(strength, value_set)
        }
        relevant: set[str] = set()
        changed = True
        while changed:
            changed = False
            for name, table in self.tables.items():
                if name in relevant:
                    continue
                for key, (_s, _vs, _code, child) in table.items():
                    if (name, key) in bound or child == "*" or child in relevant:
                        relevant.add(name)
                        changed = True
                        break
        out: dict[str, dict[str, Entry]] = {}
        for name, table in self.tables.items():
            kept: dict[str, Entry] = {}
            for key, (strength, value_set, code, child) in table.items():
                is_bound = (name, key) in bound
                leads = child == "*" or child in relevant
                if is_bound or leads:
                    kept[key] = (
                        strength if is_bound else None,
                        value_set if is_bound else None,
                        code,
                        child if leads else None,
                    )
            if kept:
                out[name] = kept
        return BindingTable(out)

    def _walk(
        self, node: dict[str, Any], table: dict[str, Entry], path: str, out: list[BoundValue]
    ) -> None:
        # the hot loop of every write: kept flat (no helper calls per element)
        tables = self.tables
        for key, value in node.items():
            entry = table.get(key)
            if entry is None:
                if key in _EXTENSIONS and self._extension and type(value) is list:
                    for i, item in enumerate(value):
                        if type(item) is dict:
                            self._walk(item, self._extension, f"{path}.{key}[{i}]", out)
                continue
            strength, value_set, type_code, child = entry
            items = enumerate(value) if type(value) is list else ((None, value),)
            for i, item in items:
                where = f"{path}.{key}" if i is None else f"{path}.{key}[{i}]"
                if strength is not None:
                    out.append(BoundValue(where, strength, value_set, type_code, item))  # type: ignore[arg-type]
                if child is None or type(item) is not dict:
                    continue
                if child == "*":
                    kind = item.get("resourceType")
                    inner = tables.get(kind) if isinstance(kind, str) else None
                else:
                    inner = tables.get(child)
                if inner is not None:
                    self._walk(item, inner, where, out)


@lru_cache(maxsize=1)
def default_table() -> BindingTable:
    return BindingTable.from_file()


def binding_at(root: str, path: Sequence[str | int]) -> tuple[str, str] | None:
    """(strength, value set) of the element at a JSON path (e.g. a schema error's), if bound.

    Embedded resources are not followed (their type is in the instance, not the path).
    """
    tables = default_table().tables
    table = tables.get(root)
    entry: Entry | None = None
    for part in path:
        if isinstance(part, int):
            continue
        if table is None:
            return None
        entry = table.get(part)
        if entry is None:
            return None
        child = entry[3]
        table = tables.get(child) if child and child != "*" else None
    if entry is None or entry[0] is None or entry[1] is None:
        return None
    return entry[0], entry[1]


def coded_pairs(bound: BoundValue) -> list[Pair]:
    """The (system, code) pairs a bound value offers; empty when it carries no code."""
    value = bound.value
    if isinstance(value, str):
        return [(None, value)]
    if not isinstance(value, dict):
        return []
    if bound.type_code == "CodeableConcept":
        codings = value.get("coding")
        if not isinstance(codings, list):
            return []
        return [
            (c.get("system"), c["code"])
            for c in codings
            if isinstance(c, dict) and isinstance(c.get("code"), str)
        ]
    code = value.get("code")
    return [(value.get("system"), code)] if isinstance(code, str) else []


def _shown(pairs: list[Pair]) -> str:
    texts = [f"{s}|{c}" if s else repr(c) for s, c in pairs]
    text = ", ".join(texts)
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 3] + "..."


class BindingChecker:
    """Checks resources against the binding table with one terminology service."""

    def __init__(
        self,
        terminology: CodeChecking,
        *,
        required: Mode = "error",
        extensible: Mode = "warn",
        table: BindingTable | None = None,
    ) -> None:
        self.terminology = terminology
        self.required = required
        self.extensible = extensible
        self.table = table or default_table()
        self._known: dict[str, bool] = {}
        self._members: dict[tuple[str, str | None, str], bool | None] = {}
        self._live: BindingTable | None = None  # self.table restricted to what is checked
        self._expires = 0.0
        self._next_sync = 0.0
        self._dirty = False
        self._generation: Any = None
        self._lock = threading.Lock()

    def invalidate(self) -> None:
        """A CodeSystem/ValueSet was written: look at the service again before the next check."""
        self._dirty = True

    def _changed(self, now: float) -> bool:
        """Whether the service's content changed since the caches were filled.

        The service notices stored changes itself when asked (its `refresh`); asked at most
        every SYNC_SECONDS here (or at once after `invalidate`), not on every write. Its
        `catalogue` object is replaced on every rebuild, which tells us it changed.
        """
        if not self._dirty and now < self._next_sync:
            return False
        self._dirty = False
        self._next_sync = now + SYNC_SECONDS
        refresh = getattr(self.terminology, "refresh", None)
        if refresh is not None:
            try:
                refresh()
            except Exception:  # a store hiccup must not fail the write: keep what we have
                log.warning("terminology refresh failed; binding caches kept", exc_info=True)
                return False
        generation = id(getattr(self.terminology, "catalogue", self.terminology))
        changed = generation != self._generation
        self._generation = generation
        return changed

    def _fresh(self) -> BindingTable:
        """The table to walk, with caches dropped when the service's content changed (and
        every CACHE_SECONDS for services that cannot tell)."""
        now = time.monotonic()
        live = self._live
        changed = self._changed(now)
        if live is None or changed or now >= self._expires or len(self._members) > MAX_CACHED:
            with self._lock:
                self._known = {}
                self._members = {}
                live = self.table.restricted(
                    lambda strength, vs: self._mode(strength) != "ignore" and self.knows(vs)
                )
                self._live = live
                self._expires = now + CACHE_SECONDS
        return live

    def knows(self, value_set: str) -> bool:
        known = self._known.get(value_set)
        if known is None:
            try:
                known = bool(self.terminology.has_value_set(value_set))
            except FhirError:
                known = False
            self._known[value_set] = known
        return known

    def contains(self, value_set: str, system: str | None, code: str) -> bool | None:
        """Whether the value set holds the code (None: the service could not tell)."""
        key = (value_set, system, code)
        try:
            return self._members[key]
        except KeyError:
            pass
        try:
            answer: bool | None = bool(
                self.terminology.validate_code(value_set, system, code).result
            )
        except FhirError as error:
            log.info("cannot check %s|%s in %s: %s", system, code, value_set, error)
            answer = None
        self._members[key] = answer
        return answer

    def _mode(self, strength: str) -> Mode:
        return self.required if strength == "required" else self.extensible

    def issues(self, resource: dict[str, Any]) -> list[Issue]:
        """Errors and warnings for the values that break their bindings (empty: all fine)."""
        if self.required == "ignore" and self.extensible == "ignore":
            return []
        found: list[Issue] = []
        for bound in self._fresh().bound_values(resource):
            issue = self._check(bound, self._mode(bound.strength))
            if issue is not None:
                found.append(issue)
        return found

    def _check(self, bound: BoundValue, mode: Mode) -> Issue | None:
        pairs = coded_pairs(bound)
        severity = "error" if mode == "error" else "warning"
        if not pairs:
            if bound.strength != "required" or bound.type_code != "CodeableConcept":
                return None  # nothing coded to check (e.g. a Coding with only a display)
            return Issue(
                severity,
                "code-invalid",
                f"{bound.path}: no coding given, but the required binding needs a code from "
                f"the value set {bound.value_set}",
                [bound.path],
            )
        answers = [self.contains(bound.value_set, system, code) for system, code in pairs]
        if any(answers) or None in answers:
            return None
        if len(pairs) == 1:
            subject = f"{_shown(pairs)} is not"
        else:
            subject = f"none of the codings {_shown(pairs)} is"
        text = f"{bound.path}: {subject} in the value set {bound.value_set}"
        return Issue(severity, "code-invalid", f"{text} ({bound.strength} binding)", [bound.path])


_checkers: weakref.WeakKeyDictionary[Any, dict[tuple[str, str], BindingChecker]] = (
    weakref.WeakKeyDictionary()
)
_checkers_lock = threading.Lock()


def checker_for(terminology: CodeChecking, required: Mode, extensible: Mode) -> BindingChecker:
    """One checker (and cache) per terminology service and modes."""
    try:
        with _checkers_lock:
            by_mode = _checkers.setdefault(terminology, {})
            checker = by_mode.get((required, extensible))
            if checker is None:
                checker = BindingChecker(terminology, required=required, extensible=extensible)
                by_mode[(required, extensible)] = checker
            return checker
    except TypeError:  # a service that cannot be weakly referenced or hashed
        return BindingChecker(terminology, required=required, extensible=extensible)


def check_bindings(ctx: Any, resource: dict[str, Any]) -> list[Issue]:
    """The write-path check: raise 422 for broken bindings set to error; return warnings.

    `ctx` is the ServerContext; without a terminology service nothing is checked.
    """
    terminology = getattr(ctx, "terminology", None)
    if terminology is None:
        return []
    settings = ctx.settings
    checker = checker_for(
        terminology,
        getattr(settings, "required_bindings", "error"),
        getattr(settings, "extensible_bindings", "warn"),
    )
    issues = checker.issues(resource)
    if resource.get("resourceType") in TERMINOLOGY_TYPES:
        checker.invalidate()  # the next write may use what this one defines
    errors = [i for i in issues if i.severity == "error"]
    if errors:
        raise FhirError(422, "code-invalid", "", issues=errors)
    return issues
