"""FHIR search parameters -> the storage query IR (`fhir_server.storage.query`).

`SearchQueryParser.parse` takes the (name, value) pairs as received and the resource
type(s) searched, and returns a `ParsedSearch`: the predicate (`where`), the result
parameters (`_sort`, `_count`, `_include`, ...) and warnings for ignored parameters.

Semantics (http://hl7.org/fhir/R4/search.html): a comma inside a value is OR, a repeated
parameter is AND. Prefixes and precision ranges are in `query_values`. Index value
encodings (of-type, identifier, composite keys) match `index_values`/`composite_keys`:

- `identifier:of-type=sys|TYPE|value` -> Token("identifier:of-type", sys, "TYPE|value")
- `subject:identifier=sys|value`       -> Token("subject:identifier", sys, value)
- composites: keys as written per component (see `composite_keys`), the first
  number/quantity/date component becomes range conditions.

Chains and `_has` run sub-searches through a `SubSearch` (the store) and turn into
`Reference(targets=...)` / `IdIn`; a sub-search with no match becomes `Nothing`.
Errors a client can cause raise `FhirError` 400 naming the parameter. Unknown parameters
are warnings, or errors with `strict=True` (`Prefer: handling=strict`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

from fhir_server.abdm import abha
from fhir_server.errors import FhirError, Issue, bad_request, not_supported
from fhir_server.instants import to_micros
from fhir_server.search import query_values as qv
from fhir_server.search.composite_keys import RANGE_COMPONENT_TYPES, number_key
from fhir_server.search.dates import zone
from fhir_server.search.normalize import normalize_text
from fhir_server.search.references import (
    RESOURCE_ID_RE,
    ParsedReference,
    normalize_bases,
    parse_reference,
)
from fhir_server.search.registry import SearchParam, SearchParameterRegistry
from fhir_server.search.result_params import (
    CONTAINED_TYPE_VALUES,
    CONTAINED_VALUES,
    SUMMARY_VALUES,
    TOTAL_VALUES,
    Include,
    ResultParameters,
)
from fhir_server.search.terminology_modifiers import MODIFIERS as TERMINOLOGY_MODIFIERS
from fhir_server.search.terminology_modifiers import terminology_predicate
from fhir_server.storage.query import (
    And,
    Composite,
    IdIn,
    IndexKind,
    LastUpdated,
    Missing,
    Not,
    Nothing,
    Or,
    Predicate,
    Range,
    Reference,
    SearchQuery,
    SortKey,
    String,
    Token,
    TokenText,
    Uri,
)

if TYPE_CHECKING:
    from fhir_server.search.subsearch import SubSearch
    from fhir_server.settings import Settings

KIND_OF_TYPE: dict[str, IndexKind] = {
    "token": "token",
    "string": "string",
    "date": "range",
    "number": "range",
    "quantity": "quantity",
    "reference": "reference",
    "uri": "uri",
    "composite": "composite",
}
MODIFIERS: dict[str, frozenset[str]] = {
    "token": frozenset({"missing", "text", "not", "of-type"}),
    "string": frozenset({"missing", "exact", "contains"}),
    "date": frozenset({"missing"}),
    "number": frozenset({"missing"}),
    "quantity": frozenset({"missing"}),
    "reference": frozenset({"missing", "identifier"}),  # plus a resource type
    "uri": frozenset({"missing", "above", "below"}),
    "composite": frozenset({"missing"}),
}
RESULT_PARAMS = frozenset(
    {
        "_sort",
        "_count",
        "_summary",
        "_elements",
        "_total",
        "_include",
        "_revinclude",
        "_contained",
        "_containedType",
        "_cursor",
    }
)
# Handled by the HTTP layer (format negotiation), never search criteria.
PASSTHROUGH_PARAMS = frozenset({"_format", "_pretty"})
UNSUPPORTED_PARAMS = frozenset({"_text", "_content", "_query", "_filter"})
_ELEMENT_RE = re.compile(r"[A-Za-z][A-Za-z0-9]*(\.[A-Za-z][A-Za-z0-9]*)*")


@dataclass(slots=True)
class ParsedSearch:
    types: tuple[str, ...]
    where: Predicate | None
    result: ResultParameters
    warnings: list[Issue] = field(default_factory=list)

    def query(self) -> SearchQuery:
        return SearchQuery(
            types=self.types,
            where=self.where,
            sort=self.result.sort,
            count=self.result.count,
            cursor=self.result.cursor,
            total=self.result.total,
        )


@dataclass(slots=True)
class _Context:
    strict: bool
    subsearch: SubSearch | None
    warnings: list[Issue]


def _any_of(predicates: Sequence[Predicate]) -> Predicate:
    return predicates[0] if len(predicates) == 1 else Or(tuple(predicates))


def _all_of(predicates: Sequence[Predicate]) -> Predicate:
    return predicates[0] if len(predicates) == 1 else And(tuple(predicates))


class SearchQueryParser:
    def __init__(
        self,
        registry: SearchParameterRegistry,
        *,
        default_timezone: str = "UTC",
        base_urls: Sequence[str] = (),
        default_count: int = 20,
        max_count: int = 1000,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        self.registry = registry
        self.tz = zone(default_timezone)
        self.own_bases = normalize_bases(tuple(base_urls))
        self.default_count = default_count
        self.max_count = max_count
        self._now = now or (lambda: datetime.now(UTC))
        # resource type -> why its index may be incomplete (a running $reindex), or None
        self.indexing: Callable[[str], str | None] | None = None
        # the TerminologyService for :in/:not-in/:above/:below (set by build_context)
        self.terminology: Any = None

    @classmethod
    def from_settings(
        cls, registry: SearchParameterRegistry, settings: Settings
    ) -> SearchQueryParser:
        return cls(
            registry,
            default_timezone=settings.default_timezone,
            base_urls=[settings.base_url] if settings.base_url else [],
            default_count=settings.default_count,
            max_count=settings.max_count,
        )

    # -- entry point ----------------------------------------------------------------

    def parse(
        self,
        resource_types: Sequence[str],
        params: Sequence[tuple[str, str]],
        *,
        strict: bool = False,
        subsearch: SubSearch | None = None,
    ) -> ParsedSearch:
        """Parse a search: `resource_types` empty = system-level (then `_type` applies)."""
        types = tuple(resource_types)
        for t in types:
            if not self.registry.is_resource_type(t):
                raise bad_request(f"Unknown resource type '{t}'")
        ctx = _Context(strict, subsearch, [])
        result = ResultParameters(count=self.default_count)
        if not types:
            types = self._type_param(params)
        predicates: list[Predicate] = []
        for name, value in params:
            if name == "_type":
                continue
            if name in RESULT_PARAMS or name.split(":", 1)[0] in ("_include", "_revinclude"):
                self._result_param(types, name, value, result)
            elif name in PASSTHROUGH_PARAMS:
                result.extra[name] = value
            else:
                predicate = self._criterion(ctx, types, name, value)
                if predicate is not None:
                    predicates.append(predicate)
        where = None if not predicates else _all_of(predicates)
        return ParsedSearch(types, where, result, ctx.warnings)

    def _type_param(self, params: Sequence[tuple[str, str]]) -> tuple[str, ...]:
        found: list[str] = []
        for name, value in params:
            if name != "_type":
                continue
            for t in value.split(","):
                t = t.strip()
                if not self.registry.is_resource_type(t):
                    raise bad_request(f"Parameter '_type': unknown resource type '{t}'", ["_type"])
                found.append(t)
        return tuple(dict.fromkeys(found))

    # -- criteria -------------------------------------------------------------------

    def _unknown(self, ctx: _Context, message: str, param: str) -> None:
        if ctx.strict:
            raise FhirError(400, "not-supported", message, [param])
        ctx.warnings.append(Issue("warning", "not-supported", f"{message} (ignored)", [param]))

    def _lookup(self, types: tuple[str, ...], code: str) -> SearchParam | None:
        """The parameter `code` on every searched type (None if any type lacks it)."""
        if not types:
            return self.registry.get_common(code)
        params = [self.registry.get(t, code) for t in types]
        if any(p is None for p in params):
            return None
        first = cast(SearchParam, params[0])
        if any(cast(SearchParam, p).type != first.type for p in params):
            return None
        if len(params) > 1 and first.type == "reference":
            targets = dict.fromkeys(t for p in params for t in cast(SearchParam, p).targets)
            return SearchParam(
                first.code,
                first.type,
                first.expression,
                first.base,
                first.url,
                targets=tuple(targets),
            )
        return first

    def _criterion(
        self, ctx: _Context, types: tuple[str, ...], name: str, value: str
    ) -> Predicate | None:
        if value == "":
            return None  # the spec says empty parameters are ignored
        if name.startswith("_has:"):
            return self._has(ctx, types, name, value)
        head, dot, rest = name.partition(".")
        code, colon, modifier = head.partition(":")
        if code == "_id":
            if colon:
                raise qv.reject(name, f"modifier ':{modifier}' is not allowed on _id")
            if dot:
                raise qv.reject(name, "_id cannot be chained")
            ids = tuple(qv.unescape(v) for v in qv.split_unescaped(value, ","))
            return IdIn(ids)
        if code == "_lastUpdated":
            if colon or dot:
                raise qv.reject(name, "_lastUpdated takes no modifier or chain")
            return self._last_updated(name, value)
        if code == "_list":
            if colon or dot:
                raise qv.reject(name, "_list takes no modifier or chain")
            return self._list(ctx, types, name, value)
        if code in UNSUPPORTED_PARAMS:
            self._unknown(ctx, f"Search parameter '{code}' is not supported", name)
            return None
        param = self._lookup(types, code)
        if param is None:
            where = ", ".join(types) if types else "all resource types"
            self._unknown(ctx, f"Unknown search parameter '{code}' for {where}", name)
            return None
        self._note_indexing(ctx, types, name)
        if param.type == "special" or (param.type != "composite" and not param.expression):
            self._unknown(ctx, f"Search parameter '{code}' is not supported", name)
            return None
        if colon and modifier in TERMINOLOGY_MODIFIERS and param.type == "token" and not dot:
            raw = qv.split_unescaped(value, ",")
            return terminology_predicate(self.terminology, name, code, modifier, raw, ctx.warnings)
        type_modifier: str | None = None
        if colon and param.type == "reference" and modifier not in MODIFIERS["reference"]:
            if not self.registry.is_resource_type(modifier):
                raise qv.reject(name, f"unknown modifier ':{modifier}'")
            if param.targets and modifier not in param.targets:
                raise qv.reject(name, f"'{modifier}' is not a target type of '{code}'")
            type_modifier = modifier
        elif colon and modifier not in MODIFIERS[param.type]:
            raise qv.reject(name, f"unknown modifier ':{modifier}' for a {param.type} parameter")
        if dot:
            if param.type != "reference":
                raise qv.reject(name, f"'{code}' is a {param.type} parameter and cannot be chained")
            if colon and type_modifier is None:
                raise qv.reject(name, f"modifier ':{modifier}' cannot be used in a chain")
            return self._chain(ctx, name, param, type_modifier, rest, value)
        if colon and modifier == "missing":
            if value not in ("true", "false"):
                raise qv.reject(name, "':missing' takes true or false")
            return Missing(code, KIND_OF_TYPE[param.type], value == "true")
        raw_values = qv.split_unescaped(value, ",")
        mod = type_modifier or (modifier if colon else "")
        if param.type == "token":
            return self._token(name, code, mod, raw_values)
        predicates = [self._value(name, param, mod, raw) for raw in raw_values]
        return _any_of(predicates)

    def _value(self, name: str, param: SearchParam, modifier: str, raw: str) -> Predicate:
        code = param.type
        if code == "string":
            text = qv.unescape(raw)
            if modifier == "exact":
                return String(param.code, text, "exact")
            return String(param.code, normalize_text(text), "contains" if modifier else "start")
        if code == "date":
            return self._date(name, param.code, raw)
        if code == "number":
            prefix, number = qv.split_prefix(raw)
            value = qv.parse_decimal(number, name)
            return self._ranges(param.code, prefix, qv.number_conditions(prefix, value), "range")
        if code == "quantity":
            prefix, value, system, unit = qv.parse_quantity(raw, name)
            return self._ranges(
                param.code, prefix, qv.number_conditions(prefix, value), "quantity", system, unit
            )
        if code == "reference":
            return self._reference(name, param, modifier, raw)
        if code == "uri":
            mode = modifier if modifier in ("above", "below") else "eq"
            return Uri(param.code, qv.unescape(raw), mode)  # type: ignore[arg-type]
        if code == "composite":
            return self._composite(name, param, raw)
        raise qv.reject(name, f"parameters of type {code} are not supported")

    # -- per kind -------------------------------------------------------------------

    def _token(self, name: str, code: str, modifier: str, raw_values: list[str]) -> Predicate:
        if modifier == "text":
            return _any_of([TokenText(code, normalize_text(qv.unescape(v))) for v in raw_values])
        if modifier == "of-type":
            predicates: list[Predicate] = []
            for raw in raw_values:
                parts = [qv.unescape(p) for p in qv.split_unescaped(raw, "|")]
                if len(parts) != 3 or not parts[1] or not parts[2]:
                    raise qv.reject(name, "':of-type' takes system|type-code|identifier-value")
                predicates.append(
                    Token(
                        f"{code}:of-type",
                        f"{parts[1]}|{parts[2]}",
                        parts[0] or None,
                        no_system=not parts[0],
                    )
                )
            return _any_of(predicates)
        tokens: list[Predicate] = []
        for raw in raw_values:
            system, value, no_system = qv.parse_token(raw, name)
            token = Token(code, value, system, no_system)
            health_id = (
                abha.canonical_search(system, value)
                if code == "identifier" and not no_system
                else None
            )
            if health_id is None:
                tokens.append(token)
            elif system is None:
                # a bare 14-digit value may also be some other identifier: match both
                tokens += [token, Token(code, health_id[1], health_id[0])]
            else:
                tokens.append(Token(code, health_id[1], health_id[0]))
        if modifier == "not":
            return Not(_any_of(tokens))
        return _any_of(tokens)

    def _ranges(
        self,
        code: str,
        prefix: str,
        alternatives: qv.Conditions,
        kind: str,
        system: str | None = None,
        unit: str | None = None,
    ) -> Predicate:
        ranges = [
            Range(code, conditions, kind, system, unit)  # type: ignore[arg-type]
            for conditions in alternatives
        ]
        predicate = _any_of(ranges)
        return Not(predicate) if prefix == "ne" else predicate

    def _date_alternatives(self, name: str, raw: str) -> tuple[str, qv.Conditions]:
        prefix, text = qv.split_prefix(raw)
        lo, hi = qv.parse_date_value(text, name, self.tz)
        return prefix, qv.date_conditions(prefix, lo, hi, to_micros(self._now()))

    def _date(self, name: str, code: str, raw: str) -> Predicate:
        prefix, alternatives = self._date_alternatives(name, raw)
        return self._ranges(code, prefix, alternatives, "range")

    def _last_updated(self, name: str, value: str) -> Predicate:
        predicates: list[Predicate] = []
        for raw in qv.split_unescaped(value, ","):
            prefix, alternatives = self._date_alternatives(name, raw)
            alt = _any_of([LastUpdated(c) for c in alternatives])
            predicates.append(Not(alt) if prefix == "ne" else alt)
        return _any_of(predicates)

    def _parsed_reference(self, name: str, raw: str) -> ParsedReference:
        text = qv.unescape(raw)
        parsed = parse_reference(text, self.own_bases)
        if parsed is None:
            raise qv.reject(name, f"'{text}' is not a searchable reference")
        return parsed

    def _reference(self, name: str, param: SearchParam, modifier: str, raw: str) -> Predicate:
        if modifier == "identifier":
            system, value, no_system = qv.parse_token(raw, name)
            return Token(f"{param.code}:identifier", value, system, no_system)
        parsed = self._parsed_reference(name, raw)
        if parsed.url is not None:
            return Reference(param.code, url=parsed.url)
        assert parsed.id is not None
        target_type = parsed.type or modifier or None
        if target_type is None and len(param.targets) == 1:
            target_type = param.targets[0]
        if modifier and parsed.type and parsed.type != modifier:
            return Nothing()
        return Reference(param.code, targets=((target_type, parsed.id),))

    def _composite(self, name: str, param: SearchParam, raw: str) -> Predicate:
        pieces = qv.split_unescaped(raw, "$")
        if len(pieces) != len(param.components):
            raise qv.reject(
                name,
                f"'{raw}' needs {len(param.components)} '$'-separated parts "
                f"({', '.join(c.code for c in param.components)})",
            )
        keys: list[str] = []
        alternatives: qv.Conditions = ((),)
        prefix = "eq"
        range_taken = False
        for comp, piece in zip(param.components, pieces, strict=True):
            label = f"{name} ({comp.code})"
            if comp.type in RANGE_COMPONENT_TYPES and not range_taken:
                range_taken = True
                if comp.type == "date":
                    prefix, alternatives = self._date_alternatives(label, piece)
                    keys.append("")
                elif comp.type == "number":
                    prefix, number = qv.split_prefix(piece)
                    value = qv.parse_decimal(number, label)
                    alternatives = qv.number_conditions(prefix, value)
                    keys.append("")
                else:
                    prefix, value, system, unit = qv.parse_quantity(piece, label)
                    alternatives = qv.number_conditions(prefix, value)
                    if unit is None:
                        keys.append("")
                    else:
                        keys.append(f"{system}|{unit}" if system else f"|{unit}")
            elif comp.type in RANGE_COMPONENT_TYPES:
                keys.append(number_key(float(qv.parse_decimal(piece, label))))
            elif comp.type == "token":
                system, value, no_system = qv.parse_token(piece, label)
                if value is None:
                    raise qv.reject(label, "a composite token part needs a code")
                keys.append(
                    f"{system}|{value}" if system else (f"|{value}" if no_system else value)
                )
            elif comp.type == "string":
                keys.append(normalize_text(qv.unescape(piece)))
            elif comp.type == "reference":
                parsed = self._parsed_reference(label, piece)
                keys.append(
                    parsed.url
                    if parsed.url is not None
                    else (f"{parsed.type}/{parsed.id}" if parsed.type else cast(str, parsed.id))
                )
            else:
                keys.append(qv.unescape(piece))
        composites = [Composite(param.code, tuple(keys), conds) for conds in alternatives]
        predicate = _any_of(composites)
        return Not(predicate) if prefix == "ne" else predicate

    def _note_indexing(self, ctx: _Context, types: tuple[str, ...], name: str) -> None:
        """Warn that results may be incomplete while a $reindex of a searched type runs."""
        if self.indexing is None:
            return
        for t in types:
            message = self.indexing(t)
            if message is not None:
                issue = Issue("warning", "incomplete", f"Parameter '{name}': {message}", [name])
                if issue not in ctx.warnings:
                    ctx.warnings.append(issue)

    def _list(self, ctx: _Context, types: tuple[str, ...], name: str, value: str) -> Predicate:
        """`_list=id`: the resources a stored List holds (List.entry.item), as an id set."""
        subsearch = self._need_subsearch(ctx, name)
        keys: list[tuple[str, str]] = []
        for raw in qv.split_unescaped(value, ","):
            list_id = qv.unescape(raw).strip()
            if list_id.startswith("$"):
                raise not_supported(
                    f"Parameter '{name}': functional lists such as '{list_id}' are not supported"
                )
            if not RESOURCE_ID_RE.fullmatch(list_id):
                raise qv.reject(name, f"'{list_id}' is not a List id")
            keys += subsearch.referenced_keys(("List",), IdIn((list_id,)), "item")
        by_type: dict[str, dict[str, None]] = {}
        for type_, id_ in keys:
            if not types or type_ in types:
                by_type.setdefault(type_, {})[id_] = None
        if not by_type:
            return Nothing()
        if len(types) == 1:  # a type-level search: the ids alone say it
            return IdIn(tuple(by_type.get(types[0], {})))
        # a system search: each id only as the type the List holds it as
        typed = tuple(IdIn(tuple(ids), type_) for type_, ids in sorted(by_type.items()))
        return typed[0] if len(typed) == 1 else Or(typed)

    # -- chains and _has ------------------------------------------------------------

    def _need_subsearch(self, ctx: _Context, name: str) -> SubSearch:
        if ctx.subsearch is None:
            raise not_supported(f"Parameter '{name}': chained searches are not available here")
        return ctx.subsearch

    def _chain(
        self,
        ctx: _Context,
        name: str,
        param: SearchParam,
        type_modifier: str | None,
        rest: str,
        value: str,
    ) -> Predicate:
        next_code = rest.partition(".")[0].partition(":")[0]
        candidates = (type_modifier,) if type_modifier else param.targets
        types = [
            t
            for t in candidates
            if next_code in ("_id", "_lastUpdated") or self.registry.get(t, next_code) is not None
        ]
        if not types:
            raise qv.reject(
                name,
                f"'{next_code}' is not a search parameter of "
                f"{' or '.join(candidates) or 'the referenced types'}",
            )
        subsearch = self._need_subsearch(ctx, name)
        # Inside a chain an ignored criterion would widen the match: always strict.
        inner_ctx = _Context(True, ctx.subsearch, ctx.warnings)
        keys: list[tuple[str, str]] = []
        for t in types:
            inner = self._criterion(inner_ctx, (t,), rest, value)
            if inner is None:
                continue
            keys.extend(subsearch.match_keys((t,), inner))
        if not keys:
            return Nothing()
        return Reference(param.code, targets=tuple(dict.fromkeys(keys)))

    def _has(self, ctx: _Context, types: tuple[str, ...], name: str, value: str) -> Predicate:
        parts = name[len("_has:") :].split(":", 2)
        if len(parts) != 3 or not all(parts):
            raise qv.reject(name, "_has takes _has:Type:reference-param:search-param")
        source_type, ref_code, rest = parts
        if not self.registry.is_resource_type(source_type):
            raise qv.reject(name, f"unknown resource type '{source_type}'")
        ref_param = self.registry.get(source_type, ref_code)
        if ref_param is None or ref_param.type != "reference":
            raise qv.reject(name, f"'{ref_code}' is not a reference parameter of {source_type}")
        if types and ref_param.targets and not set(types) & set(ref_param.targets):
            raise qv.reject(name, f"{source_type}.{ref_code} does not refer to {', '.join(types)}")
        subsearch = self._need_subsearch(ctx, name)
        inner_ctx = _Context(True, ctx.subsearch, ctx.warnings)
        inner = self._criterion(inner_ctx, (source_type,), rest, value)
        if inner is None:
            return Nothing()
        keys = subsearch.referenced_keys((source_type,), inner, ref_code)
        ids = tuple(dict.fromkeys(i for t, i in keys if not types or t in types))
        return IdIn(ids) if ids else Nothing()

    # -- result parameters ------------------------------------------------------------

    def _result_param(
        self, types: tuple[str, ...], name: str, value: str, result: ResultParameters
    ) -> None:
        base, _, modifier = name.partition(":")
        if base in ("_include", "_revinclude"):
            include = self._include(types, name, modifier, value, base == "_revinclude")
            if include.reverse:
                result.revinclude = (*result.revinclude, include)
            else:
                result.include = (*result.include, include)
            return
        if name == "_count":
            if not re.fullmatch(r"\d+", value.strip()):
                raise qv.reject(name, f"'{value}' is not a whole number")
            count = int(value)
            if count > self.max_count:
                raise qv.reject(
                    name, f"{count} is more than the maximum page size {self.max_count}"
                )
            result.count = count
        elif name == "_sort":
            result.sort = self._sort(types, value)
        elif name == "_summary":
            result.summary = self._choice(name, value, SUMMARY_VALUES)  # type: ignore[assignment]
        elif name == "_total":
            result.total = self._choice(name, value, TOTAL_VALUES)  # type: ignore[assignment]
        elif name == "_contained":
            result.contained = self._choice(name, value, CONTAINED_VALUES)  # type: ignore[assignment]
        elif name == "_containedType":
            result.contained_type = self._choice(  # type: ignore[assignment]
                name, value, CONTAINED_TYPE_VALUES
            )
        elif name == "_elements":
            elements = tuple(e.strip() for e in value.split(",") if e.strip())
            for element in elements:
                if not _ELEMENT_RE.fullmatch(element):
                    raise qv.reject(name, f"'{element}' is not an element name")
            result.elements = elements
        elif name == "_cursor":
            result.cursor = value or None

    @staticmethod
    def _choice(name: str, value: str, allowed: tuple[str, ...]) -> str:
        if value not in allowed:
            raise qv.reject(name, f"'{value}' is not one of {', '.join(allowed)}")
        return value

    def _sort(self, types: tuple[str, ...], value: str) -> tuple[SortKey, ...]:
        keys: list[SortKey] = []
        for raw in value.split(","):
            raw = raw.strip()
            if not raw:
                continue
            descending = raw.startswith("-")
            code = raw[1:] if descending else raw
            if code not in ("_id", "_lastUpdated"):
                param = self._lookup(types, code)
                if param is None:
                    raise qv.reject("_sort", f"unknown search parameter '{code}'")
                if not param.sortable:
                    raise qv.reject("_sort", f"'{code}' ({param.type}) cannot be sorted on")
            keys.append(SortKey(code, descending))
        return tuple(keys)

    def _include(
        self, types: tuple[str, ...], name: str, modifier: str, value: str, reverse: bool
    ) -> Include:
        if modifier not in ("", "iterate", "recurse"):
            raise qv.reject(name, f"unknown modifier ':{modifier}'")
        iterate = bool(modifier)
        if value == "*":
            return Include("*", "*", None, iterate, reverse)
        parts = value.split(":")
        if len(parts) not in (2, 3) or not all(parts):
            raise qv.reject(name, f"'{value}' must be SourceType:searchParam[:TargetType] or *")
        source, code = parts[0], parts[1]
        target = parts[2] if len(parts) == 3 else None
        for t in (source, target):
            if t is not None and not self.registry.is_resource_type(t):
                raise qv.reject(name, f"unknown resource type '{t}'")
        if code != "*":
            param = self.registry.get(source, code)
            if param is None or param.type != "reference":
                raise qv.reject(name, f"'{code}' is not a reference parameter of {source}")
            if target is not None and param.targets and target not in param.targets:
                raise qv.reject(name, f"'{target}' is not a target type of {source}.{code}")
        if not reverse and not iterate and types and source not in types:
            raise qv.reject(name, f"'{source}' is not a type being searched")
        return Include(source, code, target, iterate, reverse)
