"""apply_patch chooses the patch format from the request's Content-Type."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from fhir_server.errors import FhirError
from fhir_server.patch import apply_patch

PATIENT: dict[str, Any] = {"resourceType": "Patient", "id": "p", "birthDate": "1974-12-25"}
JSON_PATCH = [{"op": "replace", "path": "/birthDate", "value": "2000-01-01"}]
FHIRPATH_PATCH = {
    "resourceType": "Parameters",
    "parameter": [
        {
            "name": "operation",
            "part": [
                {"name": "type", "valueCode": "replace"},
                {"name": "path", "valueString": "Patient.birthDate"},
                {"name": "value", "valueDate": "2000-01-01"},
            ],
        }
    ],
}


def test_json_patch_content_type() -> None:
    result = apply_patch(PATIENT, "application/json-patch+json", JSON_PATCH)
    assert result["birthDate"] == "2000-01-01"


@pytest.mark.parametrize(
    "content_type",
    [
        "application/fhir+json",
        "application/fhir+json; fhirVersion=4.0; charset=utf-8",
        "application/json",
        "Application/FHIR+JSON",
    ],
)
def test_fhirpath_patch_content_types(content_type: str) -> None:
    result = apply_patch(PATIENT, content_type, FHIRPATH_PATCH)
    assert result["birthDate"] == "2000-01-01"


def test_raw_bytes_body_is_parsed() -> None:
    result = apply_patch(PATIENT, "application/json-patch+json", orjson.dumps(JSON_PATCH))
    assert result["birthDate"] == "2000-01-01"


def test_invalid_json_body_is_400() -> None:
    with pytest.raises(FhirError) as caught:
        apply_patch(PATIENT, "application/json-patch+json", b"[{")
    assert caught.value.status == 400


def test_json_patch_sent_as_fhir_json_is_400() -> None:
    with pytest.raises(FhirError) as caught:
        apply_patch(PATIENT, "application/fhir+json", JSON_PATCH)
    assert caught.value.status == 400
    assert "application/json-patch+json" in caught.value.diagnostics


@pytest.mark.parametrize(
    "content_type", ["application/xml-patch+xml", "application/fhir+xml", "text/plain", ""]
)
def test_other_content_types_are_415(content_type: str) -> None:
    with pytest.raises(FhirError) as caught:
        apply_patch(PATIENT, content_type, JSON_PATCH)
    assert caught.value.status == 415
    assert caught.value.issues[0].code == "not-supported"


def test_error_renders_as_operation_outcome() -> None:
    with pytest.raises(FhirError) as caught:
        apply_patch(PATIENT, "application/json-patch+json", [{"op": "remove", "path": "/gender"}])
    outcome = caught.value.outcome()
    assert outcome["resourceType"] == "OperationOutcome"
    assert outcome["issue"][0]["code"] == "processing"
