"""The one exception type a client-caused (or server) error travels in.

Every layer raises `FhirError`; the HTTP layer turns it into an OperationOutcome with
the carried status. Issue codes are from http://hl7.org/fhir/issue-type.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class Issue:
    severity: str  # fatal | error | warning | information
    code: str  # http://hl7.org/fhir/ValueSet/issue-type
    diagnostics: str
    expression: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "severity": self.severity,
            "code": self.code,
            "diagnostics": self.diagnostics,
        }
        if self.expression:
            out["expression"] = list(self.expression)
        return out


def operation_outcome(issues: list[Issue]) -> dict[str, Any]:
    if not issues:
        issues = [Issue("information", "informational", "All OK")]
    return {"resourceType": "OperationOutcome", "issue": [i.to_json() for i in issues]}


class FhirError(Exception):
    """An error with an HTTP status and FHIR issues; rendered as an OperationOutcome."""

    def __init__(
        self,
        status: int,
        code: str,
        diagnostics: str,
        expression: list[str] | None = None,
        *,
        issues: list[Issue] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(diagnostics)
        self.status = status
        self.issues = issues or [Issue("error", code, diagnostics, expression or [])]
        self.headers = headers or {}

    @property
    def diagnostics(self) -> str:
        return "; ".join(i.diagnostics for i in self.issues)

    def outcome(self) -> dict[str, Any]:
        return operation_outcome(self.issues)


def bad_request(diagnostics: str, expression: list[str] | None = None) -> FhirError:
    return FhirError(400, "invalid", diagnostics, expression)


def not_found(diagnostics: str) -> FhirError:
    return FhirError(404, "not-found", diagnostics)


def gone(diagnostics: str) -> FhirError:
    return FhirError(410, "deleted", diagnostics)


def conflict(diagnostics: str) -> FhirError:
    return FhirError(409, "conflict", diagnostics)


def precondition_failed(diagnostics: str) -> FhirError:
    return FhirError(412, "conflict", diagnostics)


def unprocessable(diagnostics: str, expression: list[str] | None = None) -> FhirError:
    return FhirError(422, "processing", diagnostics, expression)


def not_supported(diagnostics: str, status: int = 400) -> FhirError:
    return FhirError(status, "not-supported", diagnostics)
