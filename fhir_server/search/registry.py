"""The SearchParameter registry: which parameters exist for which resource type.

Loaded once from `resources/search-parameters.json` (the official R4 definitions, trimmed
by `resources/build_search_parameters.py`); SearchParameter resources created at run time
join through `register`. Parameters whose base is `Resource` or `DomainResource`
(`_id`, `_lastUpdated`, `_tag`, `_profile`, `_security`, `_source`, ...) apply to every type.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from fhir_server.errors import bad_request

RESOURCES_DIR = Path(__file__).resolve().parents[2] / "resources"
SEARCH_PARAMETERS_FILE = RESOURCES_DIR / "search-parameters.json"
# parameters of the resource types this server accepts beyond R4 (validation/additional_types)
ADDITIONAL_SEARCH_PARAMETERS_FILE = RESOURCES_DIR / "search-parameters-additional.json"
PATIENT_COMPARTMENT_FILE = RESOURCES_DIR / "compartmentdefinition-patient.json"
CHOICE_ELEMENTS_FILE = RESOURCES_DIR / "choice-elements.json"

COMMON_BASES = frozenset({"Resource", "DomainResource"})
PARAM_TYPES = frozenset(
    {"number", "date", "string", "token", "reference", "composite", "quantity", "uri", "special"}
)
# R4 as published swaps the component expressions of DocumentReference `relationship`
# (relatesto, a reference, reads `code`; relation, a token, reads `target`), which makes
# it unusable; R4B fixed it. We apply the R4B expressions, keyed by component definition.
COMPONENT_ERRATA: dict[str, dict[str, str]] = {
    "http://hl7.org/fhir/SearchParameter/DocumentReference-relationship": {
        "http://hl7.org/fhir/SearchParameter/DocumentReference-relatesto": "target",
        "http://hl7.org/fhir/SearchParameter/DocumentReference-relation": "code",
    }
}
SORTABLE_TYPES = frozenset({"number", "date", "string", "token", "reference", "quantity", "uri"})


@dataclass(frozen=True, slots=True)
class Component:
    """One part of a composite parameter: the referenced parameter's type and code."""

    definition: str
    expression: str
    type: str
    code: str


@dataclass(frozen=True, slots=True)
class SearchParam:
    code: str
    type: str  # number | date | string | token | reference | composite | quantity | uri | special
    expression: str | None
    base: tuple[str, ...]
    url: str
    targets: tuple[str, ...] = ()
    components: tuple[Component, ...] = ()
    modifiers: tuple[str, ...] = ()
    comparators: tuple[str, ...] = ()
    chains: tuple[str, ...] = ()
    multiple_or: bool = True
    multiple_and: bool = True

    @property
    def sortable(self) -> bool:
        return self.type in SORTABLE_TYPES


def _param_from_json(
    data: Mapping[str, Any], components: tuple[Component, ...] = ()
) -> SearchParam:
    return SearchParam(
        code=data["code"],
        type=data["type"],
        expression=data.get("expression"),
        base=tuple(data.get("base", ())),
        url=data.get("url") or f"urn:search-parameter:{data['code']}",
        targets=tuple(data.get("target", ())),
        components=components,
        modifiers=tuple(data.get("modifier", ())),
        comparators=tuple(data.get("comparator", ())),
        chains=tuple(data.get("chain", ())),
        multiple_or=data.get("multipleOr", True),
        multiple_and=data.get("multipleAnd", True),
    )


class SearchParameterRegistry:
    def __init__(
        self,
        definitions: Iterable[Mapping[str, Any]],
        compartment: Mapping[str, Any] | None = None,
        choice_elements: Mapping[str, list[str]] | None = None,
    ) -> None:
        self._lock = threading.Lock()
        self._by_url: dict[str, SearchParam] = {}
        self._specific: dict[str, dict[str, SearchParam]] = {}
        self._common: dict[str, SearchParam] = {}
        self._for_type: dict[str, dict[str, SearchParam]] = {}
        self.version = 0  # bumped on every change; caches built from the registry key on it
        raw = list(definitions)
        by_url = {d["url"]: d for d in raw if "url" in d}
        for data in raw:
            self._add(self._build(data, by_url))
        self._official = list(self._by_url.values())
        self._runtime: dict[str, SearchParam] = {}  # by url, in registration order
        self.compartment_params: dict[str, tuple[str, ...]] = {}
        self.resource_types: set[str] = set()
        if compartment is not None:
            for entry in compartment.get("resource", []):
                self.resource_types.add(entry["code"])
                if entry.get("param"):
                    self.compartment_params[entry["code"]] = tuple(entry["param"])
        self.resource_types |= {t for t in self._specific if t not in COMMON_BASES}
        self.choice_elements: dict[str, frozenset[str]] = {
            name: frozenset(types) for name, types in (choice_elements or {}).items()
        }

    @classmethod
    def load_default(cls) -> SearchParameterRegistry:
        """The registry of the official R4 parameters shipped in resources/."""
        return cls(
            orjson.loads(SEARCH_PARAMETERS_FILE.read_bytes())
            + orjson.loads(ADDITIONAL_SEARCH_PARAMETERS_FILE.read_bytes()),
            orjson.loads(PATIENT_COMPARTMENT_FILE.read_bytes()),
            orjson.loads(CHOICE_ELEMENTS_FILE.read_bytes()),
        )

    def _build(
        self, data: Mapping[str, Any], by_url: Mapping[str, Mapping[str, Any]]
    ) -> SearchParam:
        components = []
        errata = COMPONENT_ERRATA.get(data.get("url", ""), {})
        for comp in data.get("component", ()):
            ref = by_url.get(comp["definition"]) or self._component_param(comp["definition"])
            if ref is None:
                raise bad_request(
                    f"SearchParameter {data.get('url')}: component {comp['definition']} is unknown",
                    ["SearchParameter.component.definition"],
                )
            expression = errata.get(comp["definition"], comp["expression"])
            components.append(Component(comp["definition"], expression, ref["type"], ref["code"]))
        return _param_from_json(data, tuple(components))

    def _component_param(self, url: str) -> dict[str, Any] | None:
        param = self._by_url.get(url)
        return None if param is None else {"type": param.type, "code": param.code}

    def _add(self, param: SearchParam) -> None:
        self._by_url[param.url] = param
        for base in param.base:
            target = self._common if base in COMMON_BASES else self._specific.setdefault(base, {})
            target[param.code] = param
        self._for_type.clear()
        self.version += 1

    def get(self, resource_type: str, code: str) -> SearchParam | None:
        specific = self._specific.get(resource_type)
        if specific is not None:
            param = specific.get(code)
            if param is not None:
                return param
        return self._common.get(code)

    def get_common(self, code: str) -> SearchParam | None:
        return self._common.get(code)

    def by_url(self, url: str) -> SearchParam | None:
        return self._by_url.get(url)

    def for_type(self, resource_type: str) -> dict[str, SearchParam]:
        """Every parameter that applies to `resource_type`, by code."""
        cached = self._for_type.get(resource_type)
        if cached is None:
            cached = dict(self._common)
            cached.update(self._specific.get(resource_type, {}))
            self._for_type[resource_type] = cached
        return cached

    def is_resource_type(self, name: str) -> bool:
        return name in self.resource_types

    def check(self, resource: Mapping[str, Any]) -> SearchParam:
        """The parameter a SearchParameter resource defines; 400 naming the bad field."""
        if resource.get("resourceType") != "SearchParameter":
            raise bad_request("not a SearchParameter resource", ["resourceType"])
        for field in ("code", "base", "type"):
            if not resource.get(field):
                raise bad_request(
                    f"SearchParameter.{field} is required", [f"SearchParameter.{field}"]
                )
        if resource["type"] not in PARAM_TYPES:
            raise bad_request(
                f"SearchParameter.type {resource['type']!r} is not a search parameter type",
                ["SearchParameter.type"],
            )
        if resource["type"] != "special" and not resource.get("expression"):
            raise bad_request(
                "SearchParameter.expression is required", ["SearchParameter.expression"]
            )
        for base in resource["base"]:
            if base not in COMMON_BASES and base not in self.resource_types:
                raise bad_request(
                    f"SearchParameter.base {base!r} is not a resource type",
                    ["SearchParameter.base"],
                )
        data = dict(resource)
        if not data.get("url"):
            data["url"] = f"urn:search-parameter:{'|'.join(data['base'])}:{data['code']}"
        return self._build(data, {})

    def register(self, resource: Mapping[str, Any]) -> SearchParam:
        """Add (or replace, same base+code) a SearchParameter resource created at run time."""
        param = self.check(resource)
        with self._lock:
            self._runtime.pop(param.url, None)
            self._runtime[param.url] = param
            self._rebuild()
        return param

    def set_runtime(self, params: Iterable[SearchParam]) -> None:
        """Make `params` (from `check`) the whole runtime set, dropping any others."""
        runtime = {p.url: p for p in params}
        with self._lock:
            if runtime == self._runtime:
                return
            self._runtime = runtime
            self._rebuild()

    @property
    def runtime_params(self) -> tuple[SearchParam, ...]:
        return tuple(self._runtime.values())

    def _rebuild(self) -> None:
        # Build new tables aside and swap them in: readers never see a half-built state.
        fresh = SearchParameterRegistry.__new__(SearchParameterRegistry)
        fresh._by_url, fresh._specific, fresh._common, fresh._for_type = {}, {}, {}, {}
        fresh.version = 0
        for param in (*self._official, *self._runtime.values()):
            fresh._add(param)
        self._by_url, self._specific, self._common = fresh._by_url, fresh._specific, fresh._common
        self._for_type = {}
        self.version += 1
