"""The FHIR `patch` interaction's document formats, applied to a resource's JSON.

JSON Patch (application/json-patch+json) and FHIRPath Patch (a Parameters resource sent as
application/fhir+json or application/json) are supported; XML Patch is not, as the server
does not speak XML.
"""

from __future__ import annotations

from typing import Any

import orjson

from fhir_server.errors import FhirError
from fhir_server.patch.fhirpath_patch import apply_fhirpath_patch
from fhir_server.patch.json_patch import apply_json_patch

__all__ = ["apply_fhirpath_patch", "apply_json_patch", "apply_patch"]

JSON_PATCH = "application/json-patch+json"
FHIR_JSON_TYPES = frozenset({"application/fhir+json", "application/json", "application/json+fhir"})


def apply_patch(resource: dict[str, Any], content_type: str, body: Any) -> dict[str, Any]:
    """Apply a patch body of the given Content-Type; returns a new dict.

    `body` may already be parsed JSON, or the raw request bytes/text.
    """
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if media_type == JSON_PATCH:
        return apply_json_patch(resource, _parsed(body))
    if media_type in FHIR_JSON_TYPES:
        parameters = _parsed(body)
        if not isinstance(parameters, dict) or parameters.get("resourceType") != "Parameters":
            raise FhirError(
                400,
                "invalid",
                f"A {media_type} patch must be a FHIRPath Patch Parameters resource "
                f"(send JSON Patch as {JSON_PATCH})",
            )
        return apply_fhirpath_patch(resource, parameters)
    raise FhirError(
        415,
        "not-supported",
        f"Unsupported patch Content-Type {content_type!r}; use {JSON_PATCH} (JSON Patch) or "
        "application/fhir+json (FHIRPath Patch Parameters)",
    )


def _parsed(body: Any) -> Any:
    if isinstance(body, bytes | bytearray | memoryview | str):
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError as error:
            raise FhirError(400, "invalid", f"The patch body is not valid JSON: {error}") from error
    return body
