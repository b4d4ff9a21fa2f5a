"""The one place FHIR operations are registered; routes and /metadata read it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from fhir_server.errors import FhirError
from fhir_server.rest.context import RequestInfo, ServerContext
from fhir_server.rest.results import InteractionResult

Handler = Callable[
    [ServerContext, RequestInfo, str | None, str | None, Sequence[tuple[str, str]], Any],
    InteractionResult,
]


@dataclass(frozen=True)
class OperationParameter:
    name: str
    use: str  # in | out
    min: int
    max: str  # "1" or "*"
    type: str | None = None  # a FHIR type, None for a resource parameter
    documentation: str = ""


@dataclass(frozen=True)
class Operation:
    name: str  # without the leading $
    levels: frozenset[str]  # system | type | instance
    handler: Handler
    definition_url: str
    types: frozenset[str] | None = None  # None = every resource type
    affects_state: bool = False
    documentation: str = ""
    parameters: tuple[OperationParameter, ...] = ()


_OPERATIONS: dict[str, Operation] = {}


def register(operation: Operation) -> Operation:
    _OPERATIONS[operation.name] = operation
    return operation


def all_operations() -> list[Operation]:
    return sorted(_OPERATIONS.values(), key=lambda op: op.name)


def find(name: str, type_: str | None, id_: str | None) -> Operation:
    operation = _OPERATIONS.get(name)
    level = "instance" if id_ is not None else "type" if type_ is not None else "system"
    where = "/".join(p for p in (type_, id_) if p) or "the system"
    if operation is None:
        raise FhirError(404, "not-supported", f"Unknown operation ${name}")
    if level not in operation.levels or (
        type_ is not None and operation.types is not None and type_ not in operation.types
    ):
        raise FhirError(400, "not-supported", f"Operation ${name} is not supported on {where}")
    return operation
