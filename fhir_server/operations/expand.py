"""ValueSet/$expand: the codes of a value set, whole or as a type-ahead page.

The value set comes by `url` (+`valueSetVersion`), inline (`valueSet` in a Parameters
body), or from the instance (`ValueSet/{id}/$expand`). `filter` keeps codes having a
word that starts with each word of the filter, in the display or any designation
("diab mel" finds "Diabetes mellitus"), shortest display first; `count`/`offset` page
it and `expansion.total` counts every match. An expansion of more than 10,000 codes
(`terminology_max_expansion`) without a filter is refused (422 too-costly, naming the
value set).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import orjson

from fhir_server.errors import FhirError
from fhir_server.instants import fhir_instant, now_utc
from fhir_server.operations.registry import Operation, OperationParameter, register
from fhir_server.operations.terminology_common import service, stored_instance
from fhir_server.rest.context import RequestInfo, ServerContext
from fhir_server.rest.results import InteractionResult
from fhir_server.terminology import words as text
from fhir_server.terminology.parameters import OperationInput
from fhir_server.terminology.service import too_costly
from fhir_server.terminology.valuesets import CompiledValueSet, TooCostly, expansion_display

MAX_PAGE = 1000


def run_expand(
    ctx: ServerContext,
    request: RequestInfo,
    type_: str | None,
    id_: str | None,
    params: Sequence[tuple[str, str]],
    body: Any,
) -> InteractionResult:
    given = OperationInput("expand", params, body)
    compiled = _value_set(ctx, given, id_)
    limit = service(ctx).max_expansion
    filter_text = given.text("filter") or ""
    offset = given.integer("offset", 0)
    count = given.integer("count", limit if not filter_text else 20)
    if filter_text and count > MAX_PAGE:
        raise FhirError(400, "invalid", f"$expand: 'count' must be at most {MAX_PAGE}")
    language = given.text("displayLanguage")
    designations = given.boolean("includeDesignations")
    query = text.words(filter_text)
    try:
        page = compiled.expand(query, offset, count, limit)
    except TooCostly as exc:
        raise too_costly(compiled.label, exc.size, limit) from exc
    if not query and page.total > limit:
        raise too_costly(compiled.label, page.total, limit)
    contains = []
    for member in page.members:
        item: dict[str, Any] = {"system": member.system}
        if member.version:
            item["version"] = member.version
        item["code"] = member.code
        display = expansion_display(member, language)
        if display:
            item["display"] = display
        if designations and member.concept is not None and member.concept.designations:
            item["designation"] = [_designation(*d) for d in member.concept.designations]
        contains.append(item)
    expansion: dict[str, Any] = {
        "identifier": f"urn:uuid:{uuid.uuid4()}",
        "timestamp": fhir_instant(now_utc()),
        "total": page.total,
        "offset": offset,
    }
    used: list[dict[str, Any]] = [
        {"name": "filter", "valueString": filter_text} if filter_text else {},
        {"name": "displayLanguage", "valueCode": language} if language else {},
    ]
    if filter_text:
        used += [
            {"name": "count", "valueInteger": count},
            {"name": "offset", "valueInteger": offset},
        ]
    if any(used):
        expansion["parameter"] = [p for p in used if p]
    if contains:
        expansion["contains"] = contains
    out = {k: v for k, v in compiled.resource.items() if k not in ("compose", "expansion", "meta")}
    out["resourceType"] = "ValueSet"
    out.setdefault("status", "active")
    out["expansion"] = expansion
    return InteractionResult(200, body=orjson.dumps(out))


def _value_set(ctx: ServerContext, given: OperationInput, id_: str | None) -> CompiledValueSet:
    terminology = service(ctx)
    if id_ is not None:
        return terminology.compile_inline(stored_instance(ctx, "ValueSet", id_))
    inline = given.complex("valueSet")
    if inline is not None:
        if inline.get("resourceType") != "ValueSet":
            raise FhirError(400, "invalid", "$expand: 'valueSet' must be a ValueSet resource")
        return terminology.compile_inline(inline)
    url = given.text("url") or given.text("context")
    if not url:
        raise FhirError(400, "required", "$expand needs the parameter 'url' (or 'valueSet')")
    version = given.text("valueSetVersion")
    return terminology.compiled(f"{url}|{version}" if version else url)


def _designation(language: str, use: str, value: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if language:
        out["language"] = language
    if use:
        out["use"] = {"code": use}
    out["value"] = value
    return out


OPERATION = register(
    Operation(
        name="expand",
        levels=frozenset({"type", "instance"}),
        types=frozenset({"ValueSet"}),
        handler=run_expand,
        definition_url="http://hl7.org/fhir/OperationDefinition/ValueSet-expand",
        documentation=(
            "Codes of a value set (shipped, stored or inline); filter = type-ahead on word"
            " prefixes of displays and designations (Hindi too), paged by count/offset;"
            " more than 10,000 codes without a filter is 422 too-costly"
        ),
        parameters=(
            OperationParameter("url", "in", 0, "1", "uri", "Canonical url of the value set"),
            OperationParameter("valueSet", "in", 0, "1", None, "An inline ValueSet"),
            OperationParameter("valueSetVersion", "in", 0, "1", "string", "Its version"),
            OperationParameter("filter", "in", 0, "1", "string", "Type-ahead text"),
            OperationParameter("count", "in", 0, "1", "integer", "Codes per page"),
            OperationParameter("offset", "in", 0, "1", "integer", "Codes to skip"),
            OperationParameter("displayLanguage", "in", 0, "1", "code", "e.g. hi"),
            OperationParameter("includeDesignations", "in", 0, "1", "boolean", "All names"),
            OperationParameter("return", "out", 1, "1", "ValueSet", "With its expansion"),
        ),
    )
)
