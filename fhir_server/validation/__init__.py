"""Parse and validate FHIR R4 JSON: body parsing, R4B-model validation on write, the R4
JSON Schema for `$validate`, and the list of R4 resource types."""

from fhir_server.validation.json_body import parse_json_body, require_resource
from fhir_server.validation.operation import validate_for_operation
from fhir_server.validation.resource import ResourceValidator
from fhir_server.validation.resource_types import R4_RESOURCE_TYPES

__all__ = [
    "R4_RESOURCE_TYPES",
    "ResourceValidator",
    "parse_json_body",
    "require_resource",
    "validate_for_operation",
]
