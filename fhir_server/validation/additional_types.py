"""Resource types this server accepts beyond FHIR R4, each with its own validator.

The R4B models and the R4 JSON Schema know only R4's types; a type listed here is
stored, read and searched like any other but validated by the function named for it.
Today that is SQL on FHIR v2's ViewDefinition. A validator is named by module path and
imported on first use, so validation does not import the features that define the types.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from functools import cache
from typing import Any

from fhir_server.errors import Issue
from fhir_server.validation.resource_types import R4_RESOURCE_TYPES

# type -> "module:function"; the function takes (resource, known resource types) and
# returns the Issues found (empty when valid)
_VALIDATORS: dict[str, str] = {
    "ViewDefinition": "fhir_server.views.definition:definition_issues",
}
ADDITIONAL_RESOURCE_TYPES: frozenset[str] = frozenset(_VALIDATORS)
# every type a client may store, read and search here
SERVER_RESOURCE_TYPES: frozenset[str] = R4_RESOURCE_TYPES | ADDITIONAL_RESOURCE_TYPES


@cache
def _validator(resource_type: str) -> Callable[[dict[str, Any], frozenset[str]], list[Issue]]:
    module, _, function = _VALIDATORS[resource_type].partition(":")
    return getattr(importlib.import_module(module), function)


def additional_type_issues(resource: dict[str, Any]) -> list[Issue]:
    """The problems of a resource of an additional type (its own validator's findings)."""
    return _validator(resource["resourceType"])(resource, SERVER_RESOURCE_TYPES)
