"""OperationDefinition resources for this server's own operations, made from the registry.

Operations defined by HL7 (`$validate`) point at HL7's canonical definitions. The server's
own operations, and `$everything`, which this server extends with a type-level
`identifier` (the health-ID record across facilities), are described here and served
read-only at `OperationDefinition/{id}` when no stored resource has that id.
"""

from __future__ import annotations

from typing import Any

from fhir_server.operations.registry import Operation, all_operations

OWN_PREFIX = "urn:fhir-server:OperationDefinition/"


def definition_id(operation: Operation) -> str | None:
    if not operation.definition_url.startswith(OWN_PREFIX):
        return None
    return operation.definition_url.removeprefix(OWN_PREFIX)


def operation_definition(operation: Operation) -> dict[str, Any]:
    id_ = definition_id(operation)
    resource: dict[str, Any] = {
        "resourceType": "OperationDefinition",
        "id": id_,
        "url": operation.definition_url,
        "name": operation.name.replace("-", "_"),
        "status": "active",
        "kind": "operation",
        "code": operation.name,
        "description": operation.documentation,
        "affectsState": operation.affects_state,
        "system": "system" in operation.levels,
        "type": "type" in operation.levels,
        "instance": "instance" in operation.levels,
    }
    if operation.types is not None:
        resource["resource"] = sorted(operation.types)
    if operation.name == "everything":
        resource["base"] = "http://hl7.org/fhir/OperationDefinition/Patient-everything"
    parameters = []
    for p in operation.parameters:
        parameter: dict[str, Any] = {
            "name": p.name,
            "use": p.use,
            "min": p.min,
            "max": p.max,
            "documentation": p.documentation,
        }
        if p.type is not None:
            parameter["type"] = p.type
        parameters.append(parameter)
    if parameters:
        resource["parameter"] = parameters
    return resource


def builtin_definition(id_: str) -> dict[str, Any] | None:
    for operation in all_operations():
        if definition_id(operation) == id_:
            return operation_definition(operation)
    return None
