"""The content of `$validate` (http://hl7.org/fhir/R4/resource-operation-validate.html).

Runs the write-time validation and the R4 JSON Schema, and reports every issue in an
OperationOutcome (HTTP 200 even when the resource is invalid: the operation succeeded).
Stores nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fhir_server.errors import FhirError, Issue, operation_outcome
from fhir_server.validation.json_body import require_resource
from fhir_server.validation.resource import ResourceValidator

MODES = frozenset({"create", "update", "delete", "profile"})
_validator = ResourceValidator()


def validate_for_operation(
    resource: Any,
    mode: str | None = None,
    profile: str | None = None,
    more_checks: Callable[[dict[str, Any]], list[Issue]] | None = None,
) -> dict[str, Any]:
    """OperationOutcome for `$validate`; raises FhirError(400) for a bad mode or a body
    that is not a resource at all (nothing to validate). `more_checks` adds issues the
    caller can find (terminology bindings, which need the server's value sets)."""
    if mode is not None and mode not in MODES:
        raise FhirError(
            400,
            "value",
            f"Unknown $validate mode '{mode}' (expected one of {', '.join(sorted(MODES))})",
            ["mode"],
        )
    if mode == "delete":
        # Would deleting be allowed is a question about stored state (references, rules),
        # not about content: there is nothing here to validate.
        return operation_outcome(
            [
                Issue(
                    "information",
                    "informational",
                    "mode=delete: no content to validate; this server enforces no delete rules",
                )
            ]
        )
    resource = require_resource(resource, None)
    issues = _validator.issues(resource, with_schema=True)
    if more_checks is not None:
        issues += more_checks(resource)
    if mode == "update" and "id" not in resource:
        root = resource["resourceType"]
        issues.append(
            Issue("error", "required", f"mode=update: {root}.id is required", [f"{root}.id"])
        )
    if profile:
        issues.append(
            Issue(
                "warning",
                "not-supported",
                f"Validation against profile {profile} is not yet supported; the resource was "
                "validated against the base FHIR R4 specification only",
            )
        )
    if not any(i.severity in ("error", "fatal") for i in issues):
        issues.insert(0, Issue("information", "informational", "All OK"))
    return operation_outcome(issues)
