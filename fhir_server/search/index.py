"""Index extraction: the search values of one resource, computed at write time.

`IndexExtractor.extract` evaluates every search parameter of the resource's type (see
`registry`) with accessors compiled once per type (`fhirpath_compile`), converts what they
find by parameter kind (`index_values`, `composite_keys`) and adds sort keys and the Patient
compartments. `_id` and `_lastUpdated` are columns of the stored record, not index values.

Sort keys (one SortValue per parameter that has a value):
- string: the first value (a HumanName as "family given"), normalised;
- token: the code of the first coding / identifier value;
- date, number, quantity: the lowest low bound;
- reference: "Type/id" of the first local reference, else its URL;
- uri: the first value.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any

from fhir_server.search import index_values as iv
from fhir_server.search.composite_keys import (
    RANGE_COMPONENT_TYPES,
    number_key,
    quantity_unit_keys,
    token_keys,
)
from fhir_server.search.dates import zone
from fhir_server.search.fhirpath_compile import Accessor, compile_accessor
from fhir_server.search.normalize import normalize_text
from fhir_server.search.references import normalize_bases
from fhir_server.search.registry import SearchParam, SearchParameterRegistry
from fhir_server.storage.records import (
    CompositeValue,
    ReferenceValue,
    ResourceIndex,
    SortValue,
)

COLUMN_PARAMS = frozenset({"_id", "_lastUpdated"})  # stored record columns, not index values

# A composite component's contribution: (key, low, high) per alternative.
_Part = tuple[str, float | None, float | None]


@dataclass(frozen=True, slots=True)
class _ComponentPlan:
    type: str
    accessor: Accessor
    targets: tuple[str, ...]
    is_range: bool  # this component's value goes to CompositeValue.low/high


@dataclass(frozen=True, slots=True)
class _ParamPlan:
    param: SearchParam
    accessor: Accessor
    handler: Callable[[IndexExtractor, ResourceIndex, _ParamPlan, list, dict], None]
    components: tuple[_ComponentPlan, ...] = ()
    range_at: int = -1  # index of the component that carries low/high, -1 if none
    signature: tuple = ()  # component (type, expression)s: equal signatures, equal rows


class IndexExtractor:
    def __init__(
        self,
        registry: SearchParameterRegistry,
        default_timezone: str = "UTC",
        base_urls: tuple[str, ...] | list[str] = (),
    ) -> None:
        self.registry = registry
        self.tz: tzinfo = zone(default_timezone)
        self.own_bases = normalize_bases(tuple(base_urls))
        self._plans: dict[str, list[_ParamPlan]] = {}
        self._plans_version = registry.version
        self._composite_memo: dict = {}

    # -- compiled plans -------------------------------------------------------------

    def _plan(self, resource_type: str) -> list[_ParamPlan]:
        if self._plans_version != self.registry.version:
            self._plans = {}
            self._plans_version = self.registry.version
        plan = self._plans.get(resource_type)
        if plan is None:
            plan = self._build_plan(resource_type)
            self._plans[resource_type] = plan
        return plan

    def _build_plan(self, resource_type: str) -> list[_ParamPlan]:
        choices = self.registry.choice_elements
        plans: list[_ParamPlan] = []
        for code, param in sorted(self.registry.for_type(resource_type).items()):
            if code in COLUMN_PARAMS or not param.expression or param.type == "special":
                continue
            accessor = compile_accessor(param.expression, resource_type, choices)
            if accessor is None:
                continue
            components: tuple[_ComponentPlan, ...] = ()
            range_at = -1
            if param.type == "composite":
                parts = []
                for i, comp in enumerate(param.components):
                    ref = self.registry.by_url(comp.definition)
                    comp_accessor = compile_accessor(comp.expression, None, choices)
                    if comp_accessor is None:
                        break
                    is_range = comp.type in RANGE_COMPONENT_TYPES and range_at < 0
                    if is_range:
                        range_at = i
                    parts.append(
                        _ComponentPlan(
                            comp.type,
                            comp_accessor,
                            ref.targets if ref is not None else (),
                            is_range,
                        )
                    )
                if len(parts) != len(param.components):
                    continue
                components = tuple(parts)
            handler = _HANDLERS.get(param.type)
            if handler is not None:
                signature = tuple((c.type, c.expression) for c in param.components)
                plans.append(_ParamPlan(param, accessor, handler, components, range_at, signature))
        return plans

    # -- extraction -----------------------------------------------------------------

    def extract(self, resource: dict[str, Any]) -> ResourceIndex:
        resource_type = resource.get("resourceType")
        index = ResourceIndex()
        if not isinstance(resource_type, str):
            return index
        self._composite_memo: dict = {}
        for plan in self._plan(resource_type):
            nodes = plan.accessor(resource, resource)
            if nodes:
                plan.handler(self, index, plan, nodes, resource)
        self._composite_memo = {}
        compartment_params = self.registry.compartment_params.get(resource_type)
        patients: list[str] = []
        if resource_type == "Patient" and isinstance(resource.get("id"), str):
            patients.append(resource["id"])  # a Patient is in its own compartment
        if compartment_params:
            patients.extend(
                r.target_id
                for r in index.references
                if r.target_type == "Patient" and r.target_id and r.param in compartment_params
            )
        index.compartments = list(dict.fromkeys(patients))
        return index

    # One handler per parameter kind, chosen when the plan is built.

    def _index_token(self, index: ResourceIndex, plan: _ParamPlan, nodes: list, _r: dict) -> None:
        code = plan.param.code
        tokens = iv.token_values(code, nodes)
        index.tokens.extend(tokens)
        for t in tokens:
            if t.code and t.param == code:
                index.sorts.append(SortValue(code, t.code))
                break

    def _index_string(self, index: ResourceIndex, plan: _ParamPlan, nodes: list, _r: dict) -> None:
        code = plan.param.code
        strings = iv.string_values(code, nodes)
        if strings:
            index.strings.extend(strings)
            index.sorts.append(SortValue(code, iv.string_sort_key(nodes[0]) or strings[0].value))

    def _index_date(self, index: ResourceIndex, plan: _ParamPlan, nodes: list, _r: dict) -> None:
        self._add_ranges(index, plan.param.code, iv.date_values(plan.param.code, nodes, self.tz))

    def _index_number(self, index: ResourceIndex, plan: _ParamPlan, nodes: list, _r: dict) -> None:
        self._add_ranges(index, plan.param.code, iv.number_values(plan.param.code, nodes))

    def _index_quantity(
        self, index: ResourceIndex, plan: _ParamPlan, nodes: list, _r: dict
    ) -> None:
        code = plan.param.code
        quantities = iv.quantity_values(code, nodes)
        if quantities:
            index.quantities.extend(quantities)
            index.sorts.append(SortValue(code, min(q.low for q in quantities)))

    def _index_reference(
        self, index: ResourceIndex, plan: _ParamPlan, nodes: list, _r: dict
    ) -> None:
        code = plan.param.code
        refs, identifiers = iv.reference_values(code, nodes, plan.param.targets, self.own_bases)
        index.references.extend(refs)
        index.tokens.extend(identifiers)
        if refs:
            index.sorts.append(SortValue(code, _reference_key(refs[0])))

    def _index_uri(self, index: ResourceIndex, plan: _ParamPlan, nodes: list, _r: dict) -> None:
        code = plan.param.code
        uris = iv.uri_values(code, nodes)
        if uris:
            index.uris.extend(uris)
            index.sorts.append(SortValue(code, uris[0].value))

    def _index_composite(
        self, index: ResourceIndex, plan: _ParamPlan, nodes: list, resource: dict
    ) -> None:
        index.composites.extend(self._composites(plan, nodes, resource))

    def references(self, resource: dict[str, Any], code: str) -> list[ReferenceValue]:
        """Only the reference values of one parameter (cheap; used by `_has`)."""
        resource_type = resource.get("resourceType")
        if not isinstance(resource_type, str):
            return []
        for plan in self._plan(resource_type):
            if plan.param.code == code and plan.param.type == "reference":
                nodes = plan.accessor(resource, resource)
                return iv.reference_values(code, nodes, plan.param.targets, self.own_bases)[0]
        return []

    def compartments(self, resource: dict[str, Any]) -> list[str]:
        """The Patient ids whose compartment holds this resource, without a whole index."""
        resource_type = resource.get("resourceType")
        patients: list[str] = []
        if resource_type == "Patient" and isinstance(resource.get("id"), str):
            patients.append(resource["id"])
        for code in self.registry.compartment_params.get(str(resource_type)) or ():
            patients.extend(
                r.target_id
                for r in self.references(resource, code)
                if r.target_type == "Patient" and r.target_id
            )
        return list(dict.fromkeys(patients))

    @staticmethod
    def _add_ranges(index: ResourceIndex, code: str, ranges: list) -> None:
        if not ranges:
            return
        index.ranges.extend(ranges)
        lows = [r.low for r in ranges if r.low is not None]
        index.sorts.append(SortValue(code, min(lows) if lows else -math.inf))

    # -- composites -----------------------------------------------------------------

    def _composites(self, plan: _ParamPlan, elements: list, resource: dict) -> list[CompositeValue]:
        code = plan.param.code
        out: list[CompositeValue] = []
        for element in elements:
            # combo-code-value-quantity and code-value-quantity see the same element with
            # the same components: compute its rows once per resource.
            memo_key = (id(element), plan.signature)
            rows = self._composite_memo.get(memo_key)
            if rows is None:
                rows = self._composite_rows(plan, element, resource)
                self._composite_memo[memo_key] = rows
            out.extend(CompositeValue(code, keys, low, high) for keys, low, high in rows)
        return out

    def _composite_rows(
        self, plan: _ParamPlan, element: Any, resource: dict
    ) -> list[tuple[tuple[str, ...], float | None, float | None]]:
        components = plan.components
        range_at = plan.range_at
        per_component: list[list[_Part]] = [[]] * len(components)
        # The later components (the value) are the ones usually absent: look there first.
        for i in range(len(components) - 1, -1, -1):
            comp = components[i]
            nodes = comp.accessor(element, resource)
            if not nodes:
                return []
            parts = self._component_parts(comp, nodes)
            if not parts:
                return []
            per_component[i] = parts
        rows = []
        for combo in itertools.product(*per_component):
            if range_at >= 0:
                _, low, high = combo[range_at]
            else:
                low = high = None
            rows.append((tuple([p[0] for p in combo]), low, high))
        return rows

    def _component_parts(self, comp: _ComponentPlan, nodes: list) -> list[_Part]:
        kind = comp.type
        parts: list[_Part] = []
        if kind == "token":
            for system, code in iv.token_pairs(nodes):
                parts.extend((k, None, None) for k in token_keys(system, code))
        elif kind == "quantity":
            for q in iv.quantity_values("", nodes):
                if comp.is_range:
                    parts.extend(
                        (k, q.low, q.high) for k in quantity_unit_keys(q.system, q.code, q.unit)
                    )
                else:
                    parts.append((number_key(q.low), None, None))
        elif kind == "number":
            for r in iv.number_values("", nodes):
                parts.append(
                    ("", r.low, r.high) if comp.is_range else (number_key(r.low), None, None)
                )
        elif kind == "date":
            for r in iv.date_values("", nodes, self.tz):
                parts.append(("", r.low, r.high))
        elif kind == "string":
            parts.extend(
                (normalize_text(t), None, None) for n in nodes for t in iv.string_texts(n)[:1]
            )
        elif kind == "reference":
            refs, _ = iv.reference_values("", nodes, comp.targets, self.own_bases)
            parts.extend((_reference_key(r), None, None) for r in refs)
        elif kind == "uri":
            parts.extend((u.value, None, None) for u in iv.uri_values("", nodes))
        return parts


def _reference_key(ref: ReferenceValue) -> str:
    if ref.target_id is not None:
        return f"{ref.target_type}/{ref.target_id}" if ref.target_type else ref.target_id
    return ref.url or ""


_HANDLERS: dict[str, Callable[[IndexExtractor, ResourceIndex, _ParamPlan, list, dict], None]] = {
    "token": IndexExtractor._index_token,
    "string": IndexExtractor._index_string,
    "date": IndexExtractor._index_date,
    "number": IndexExtractor._index_number,
    "quantity": IndexExtractor._index_quantity,
    "reference": IndexExtractor._index_reference,
    "uri": IndexExtractor._index_uri,
    "composite": IndexExtractor._index_composite,
}
