"""CodeSystem/$subsumes: how two codes of one system relate in its is-a hierarchy."""

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
from fhir_server.terminology.parameters import OperationInput, param, parameters


def run_subsumes(
    ctx: ServerContext,
    request: RequestInfo,
    type_: str | None,
    id_: str | None,
    params: Sequence[tuple[str, str]],
    body: Any,
) -> InteractionResult:
    terminology = service(ctx)
    given = OperationInput("subsumes", params, body)
    coding_a, coding_b = given.complex("codingA") or {}, given.complex("codingB") or {}
    code_a = given.text("codeA") or coding_a.get("code")
    code_b = given.text("codeB") or coding_b.get("code")
    system = given.text("system") or coding_a.get("system") or coding_b.get("system")
    version = given.text("version")
    if id_ is not None:
        system, version = split_canonical(canonical(stored_instance(ctx, "CodeSystem", id_)))
    for name, value in (("codeA", code_a), ("codeB", code_b), ("system", system)):
        if not value:
            raise FhirError(400, "required", f"$subsumes needs the parameter '{name}'")
    for coding in (coding_a, coding_b):
        if coding.get("system") not in (None, system):
            raise FhirError(
                400, "invalid", f"$subsumes compares codes of one system, not {coding['system']}"
            )
    assert system and code_a and code_b
    source = terminology.require_code_system(system, version)
    for name, code in (("codeA", code_a), ("codeB", code_b)):
        if source.lookup(code) is None:
            raise FhirError(
                404, "not-found", f"{name} '{code}' is not in CodeSystem {system}", [name]
            )
    if code_a == code_b:
        outcome = "equivalent"
    elif source.subsumes(code_a, code_b):
        outcome = "subsumes"
    elif source.subsumes(code_b, code_a):
        outcome = "subsumed-by"
    else:
        outcome = "not-subsumed"
    body_out = parameters(param("outcome", "Code", outcome))
    return InteractionResult(200, body=orjson.dumps(body_out))


OPERATION = register(
    Operation(
        name="subsumes",
        levels=frozenset({"type", "instance"}),
        types=frozenset({"CodeSystem"}),
        handler=run_subsumes,
        definition_url="http://hl7.org/fhir/OperationDefinition/CodeSystem-subsumes",
        documentation="equivalent | subsumes | subsumed-by | not-subsumed for codeA and codeB",
        parameters=(
            OperationParameter("codeA", "in", 0, "1", "code", "The first code"),
            OperationParameter("codeB", "in", 0, "1", "code", "The second code"),
            OperationParameter("system", "in", 0, "1", "uri", "Their code system"),
            OperationParameter("version", "in", 0, "1", "string", "Code system version"),
            OperationParameter("codingA", "in", 0, "1", "Coding", "codeA as a Coding"),
            OperationParameter("codingB", "in", 0, "1", "Coding", "codeB as a Coding"),
            OperationParameter("outcome", "out", 1, "1", "code", "How A relates to B"),
        ),
    )
)
