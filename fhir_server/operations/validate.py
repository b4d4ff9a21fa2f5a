"""$validate (type and instance level): check a resource, store nothing.

Runs the R4B model validation and the official R4 JSON Schema, so R4-only
differences from the R4B models are reported with their paths, and the terminology
bindings against the value sets the server knows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import orjson

from fhir_server.errors import FhirError, Issue
from fhir_server.operations.registry import Operation, register
from fhir_server.rest.context import RequestInfo, ServerContext
from fhir_server.rest.results import InteractionResult
from fhir_server.terminology.bindings import checker_for
from fhir_server.validation.json_body import require_resource
from fhir_server.validation.operation import validate_for_operation

_MODES = ("create", "update", "delete")


def run_validate(
    ctx: ServerContext,
    request: RequestInfo,
    type_: str | None,
    id_: str | None,
    params: Sequence[tuple[str, str]],
    body: Any,
) -> InteractionResult:
    assert type_ is not None
    resource, mode, profile = _arguments(body, params)
    if mode is not None and mode not in _MODES:
        raise FhirError(400, "invalid", f"mode must be one of {', '.join(_MODES)}, got {mode!r}")
    if id_ is not None:
        with ctx.store.session() as session:
            current = session.read(type_, id_)
        if mode == "delete" or resource is None:
            if current is None or current.deleted:
                raise FhirError(404, "not-found", f"{type_}/{id_} is not known")
            if resource is None:
                resource = orjson.loads(current.body)
    if resource is None and mode != "delete":
        raise FhirError(
            400, "required", "$validate needs a resource (body or 'resource' parameter)"
        )
    if resource is not None:
        resource = require_resource(resource, type_)
        if mode == "update" and id_ is not None and resource.get("id") != id_:
            raise FhirError(
                400, "invalid", f"The resource id {resource.get('id')!r} is not {id_!r}"
            )
    outcome = validate_for_operation(
        resource, mode or "create", profile, more_checks=_binding_check(ctx)
    )
    return InteractionResult(200, body=orjson.dumps(outcome))


def _binding_check(ctx: ServerContext) -> Callable[[dict[str, Any]], list[Issue]] | None:
    """Bindings as a conformance question: required ones are errors, extensible ones
    warnings, whatever the write-time settings say."""
    if ctx.terminology is None:
        return None
    return checker_for(ctx.terminology, "error", "warn").issues


def _arguments(body: Any, params: Sequence[tuple[str, str]]) -> tuple[Any, str | None, str | None]:
    mode = next((v for k, v in params if k == "mode"), None)
    profile = next((v for k, v in params if k == "profile"), None)
    if isinstance(body, dict) and body.get("resourceType") == "Parameters":
        resource = None
        for parameter in body.get("parameter") or []:
            name = parameter.get("name")
            if name == "resource":
                resource = parameter.get("resource")
            elif name == "mode":
                mode = parameter.get("valueCode") or parameter.get("valueString")
            elif name == "profile":
                profile = parameter.get("valueUri") or parameter.get("valueCanonical")
        return resource, mode, profile
    return body, mode, profile


OPERATION = register(
    Operation(
        name="validate",
        levels=frozenset({"type", "instance"}),
        handler=run_validate,
        definition_url="http://hl7.org/fhir/OperationDefinition/Resource-validate",
        documentation="R4B model validation plus the official R4 JSON Schema; stores nothing",
    )
)
