"""CodeSystem/$lookup: a concept's display, designations and properties.

Type level by `system` (+`version`) and `code`, or a `coding`; instance level on a
stored CodeSystem. `displayLanguage` picks the designation in that language (e.g. `hi`)
as the display; `property` limits the properties returned (parent, child and the
code system's own properties).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from fhir_server.errors import FhirError
from fhir_server.operations.registry import Operation, OperationParameter, register
from fhir_server.operations.terminology_common import canonical, service, stored_instance
from fhir_server.rest.context import RequestInfo, ServerContext
from fhir_server.rest.results import InteractionResult
from fhir_server.terminology.catalogue import split_canonical
from fhir_server.terminology.codesystem import InMemoryCodeSystem, designation_for
from fhir_server.terminology.parameters import OperationInput, param, parameters, part_param


def run_lookup(
    ctx: ServerContext,
    request: RequestInfo,
    type_: str | None,
    id_: str | None,
    params: Sequence[tuple[str, str]],
    body: Any,
) -> InteractionResult:
    terminology = service(ctx)
    given = OperationInput("lookup", params, body)
    coding = given.complex("coding")
    code = given.text("code") or (coding or {}).get("code")
    system = given.text("system") or (coding or {}).get("system")
    version = given.text("version") or (coding or {}).get("version")
    if id_ is not None:
        system, version = split_canonical(canonical(stored_instance(ctx, "CodeSystem", id_)))
    if not code:
        raise FhirError(400, "required", "$lookup needs the parameter 'code' (or 'coding')")
    if not system:
        raise FhirError(400, "required", "$lookup needs the parameter 'system' (or 'coding')")
    source = terminology.require_code_system(system, version)
    concept = source.lookup(code)
    if concept is None:
        raise FhirError(404, "not-found", f"Code '{code}' is not in CodeSystem {system}")
    language = given.text("displayLanguage")
    wanted = set(given.texts("property"))

    def shown(name: str) -> bool:
        return not wanted or name in wanted

    properties: list[dict[str, Any] | None] = []
    if shown("parent"):
        properties += [_property("parent", p) for p in concept.parents]
    # loaded systems keep parent links only (no child index): children are listed for
    # in-memory code systems
    if shown("child") and isinstance(source, InMemoryCodeSystem):
        properties += [_property("child", c) for c in source.children.get(code, [])]
    properties += [_property(k, v) for k, v in concept.properties if shown(k)]
    designations = [
        part_param(
            "designation",
            param("language", "Code", lang or None),
            {"name": "use", "valueCoding": {"code": use}} if use else None,
            param("value", "String", value),
        )
        for lang, use, value in concept.designations
        if shown("designation")
    ]
    out = parameters(
        param("name", "String", source.name or source.url),
        param("version", "String", source.version),
        param("display", "String", designation_for(concept, language)),
        *designations,
        *properties,
    )
    return InteractionResult(200, body=orjson.dumps(out))


def _property(code: str, value: str) -> dict[str, Any]:
    return part_param("property", param("code", "Code", code), param("value", "Code", value))


OPERATION = register(
    Operation(
        name="lookup",
        levels=frozenset({"type", "instance"}),
        types=frozenset({"CodeSystem"}),
        handler=run_lookup,
        definition_url="http://hl7.org/fhir/OperationDefinition/CodeSystem-lookup",
        documentation=(
            "Display, designations and properties of a concept of a shipped, stored or"
            " loaded code system; displayLanguage=hi gives the Hindi display where known"
        ),
        parameters=(
            OperationParameter("code", "in", 0, "1", "code", "The code to look up"),
            OperationParameter("system", "in", 0, "1", "uri", "Its code system"),
            OperationParameter("version", "in", 0, "1", "string", "Code system version"),
            OperationParameter("coding", "in", 0, "1", "Coding", "system + code as a Coding"),
            OperationParameter("displayLanguage", "in", 0, "1", "code", "e.g. hi"),
            OperationParameter("property", "in", 0, "*", "code", "Properties to return"),
            OperationParameter("name", "out", 1, "1", "string", "Code system name"),
            OperationParameter("display", "out", 1, "1", "string", "The display"),
        ),
    )
)
