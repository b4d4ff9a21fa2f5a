"""ConceptMap/$translate: a code in one system to its counterparts in another.

The map comes by `url`, inline (`conceptMap`), from the instance, or, with none named,
every known map whose source/target value sets match `source`/`target` (if given)
and whose groups translate from the code's system. `reverse=true` maps target codes back.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from fhir_server.errors import FhirError
from fhir_server.operations.registry import Operation, OperationParameter, register
from fhir_server.operations.terminology_common import service, stored_instance
from fhir_server.rest.context import RequestInfo, ServerContext
from fhir_server.rest.results import InteractionResult
from fhir_server.terminology.conceptmaps import is_success, map_matches, translate
from fhir_server.terminology.parameters import (
    OperationInput,
    param,
    parameters,
    part_param,
)


def run_translate(
    ctx: ServerContext,
    request: RequestInfo,
    type_: str | None,
    id_: str | None,
    params: Sequence[tuple[str, str]],
    body: Any,
) -> InteractionResult:
    terminology = service(ctx)
    given = OperationInput("translate", params, body)
    coding = given.complex("coding") or {}
    concept = given.complex("codeableConcept") or {}
    first = (concept.get("coding") or [{}])[0]
    code = given.text("code") or coding.get("code") or first.get("code")
    system = given.text("system") or coding.get("system") or first.get("system")
    if not code:
        raise FhirError(400, "required", "$translate needs the parameter 'code' (or 'coding')")
    if not system:
        raise FhirError(400, "required", "$translate needs the parameter 'system'")
    source_vs, target_vs = given.text("source"), given.text("target")
    if id_ is not None:
        maps = [stored_instance(ctx, "ConceptMap", id_)]
    elif (inline := given.complex("conceptMap")) is not None:
        maps = [inline]
    elif (url := given.text("url")) is not None:
        version = given.text("conceptMapVersion")
        found = terminology.concept_map_resource(f"{url}|{version}" if version else url)
        if found is None:
            raise FhirError(404, "not-found", f"ConceptMap {url} is not known to this server")
        maps = [found]
    else:
        maps = [m for m in terminology.concept_maps() if map_matches(m, source_vs, target_vs)]
    matches = translate(
        maps, system, code, given.text("targetsystem"), reverse=given.boolean("reverse")
    )
    success = is_success(matches)
    out = parameters(
        param("result", "Boolean", success),
        param(
            "message",
            "String",
            None if success else f"No translation of '{code}' from system '{system}' was found",
        ),
        *[
            part_param(
                "match",
                param("equivalence", "Code", m.equivalence),
                param(
                    "concept",
                    "Coding",
                    {
                        k: v
                        for k, v in (("system", m.system), ("code", m.code), ("display", m.display))
                        if v
                    }
                    if m.code
                    else None,
                ),
                param("source", "Uri", m.source),
                param("comment", "String", m.comment),
            )
            for m in matches
        ],
    )
    return InteractionResult(200, body=orjson.dumps(out))


OPERATION = register(
    Operation(
        name="translate",
        levels=frozenset({"type", "instance"}),
        types=frozenset({"ConceptMap"}),
        handler=run_translate,
        definition_url="http://hl7.org/fhir/OperationDefinition/ConceptMap-translate",
        documentation=(
            "Translate a code with a shipped or stored ConceptMap (by url, inline, instance,"
            " or every map matching source/target); reverse=true maps back"
        ),
        parameters=(
            OperationParameter("url", "in", 0, "1", "uri", "The ConceptMap"),
            OperationParameter("conceptMap", "in", 0, "1", None, "An inline ConceptMap"),
            OperationParameter("code", "in", 0, "1", "code", "The code to translate"),
            OperationParameter("system", "in", 0, "1", "uri", "Its system"),
            OperationParameter("coding", "in", 0, "1", "Coding", "The code as a Coding"),
            OperationParameter("source", "in", 0, "1", "uri", "Source value set"),
            OperationParameter("target", "in", 0, "1", "uri", "Target value set"),
            OperationParameter("targetsystem", "in", 0, "1", "uri", "Only to this system"),
            OperationParameter("reverse", "in", 0, "1", "boolean", "Map target to source"),
            OperationParameter("result", "out", 1, "1", "boolean", "Any usable match"),
            OperationParameter("match", "out", 0, "*", None, "equivalence, concept, source"),
        ),
    )
)
