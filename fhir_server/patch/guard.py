"""Checks shared by both patch formats on the patched result."""

from __future__ import annotations

from typing import Any

from fhir_server.errors import FhirError

# A patch edits a resource's content; which resource it is must not change (the server's
# update path checks this too, but failing here gives the client a message about its patch).
_IDENTITY_KEYS = ("resourceType", "id")


def check_result(before: dict[str, Any], after: Any) -> dict[str, Any]:
    if not isinstance(after, dict):
        raise FhirError(422, "processing", "The patch would replace the resource with a non-object")
    for key in _IDENTITY_KEYS:
        if before.get(key) != after.get(key):
            raise FhirError(
                422,
                "processing",
                f"A patch must not change the resource's '{key}' "
                f"({before.get(key)!r} -> {after.get(key)!r})",
                [key],
            )
    return after
