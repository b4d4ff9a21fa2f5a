"""Request bodies: JSON syntax, nesting depth, and being a resource at all."""

from __future__ import annotations

import pytest

from fhir_server.errors import FhirError
from fhir_server.validation import R4_RESOURCE_TYPES, parse_json_body, require_resource


def test_malformed_json_names_the_position() -> None:
    with pytest.raises(FhirError) as caught:
        parse_json_body(b'{"resourceType": "Patient",\n "active": tru}', 64)
    err = caught.value
    assert err.status == 400
    assert err.issues[0].code == "structure"
    assert "line 2" in err.diagnostics and "column" in err.diagnostics


def test_malformed_json_does_not_echo_the_body() -> None:
    with pytest.raises(FhirError) as caught:
        parse_json_body(b'{"secret": "ABHA-1234-5678", ', 64)
    assert "ABHA" not in caught.value.diagnostics


def test_empty_body_is_rejected() -> None:
    with pytest.raises(FhirError) as caught:
        parse_json_body(b"  ", 64)
    assert caught.value.status == 400


def test_deep_nesting_rejected_naming_the_limit() -> None:
    body = b'{"resourceType": "Basic", "extension": ' + b"[" * 70 + b"]" * 70 + b"}"
    with pytest.raises(FhirError) as caught:
        parse_json_body(body, 64)
    assert caught.value.status == 400
    assert caught.value.issues[0].code == "too-costly"
    assert "64" in caught.value.diagnostics


def test_nesting_beyond_orjson_limit_gets_our_message_not_a_crash() -> None:
    body = b"[" * 5000 + b"]" * 5000
    with pytest.raises(FhirError) as caught:
        parse_json_body(body, 64)
    assert caught.value.issues[0].code == "too-costly"
    assert "64" in caught.value.diagnostics


def test_nesting_at_the_limit_is_accepted() -> None:
    body = b"[" * 64 + b"]" * 64
    assert parse_json_body(body, 64) is not None


def test_brackets_inside_strings_do_not_count_as_nesting() -> None:
    body = b'{"resourceType": "Basic", "id": "x", "text": {"div": "' + b"[{" * 100 + b'"}}'
    assert parse_json_body(body, 8)["id"] == "x"


@pytest.mark.parametrize("body", [[], [1, 2], "Patient", 3, None])
def test_body_not_a_resource(body: object) -> None:
    with pytest.raises(FhirError) as caught:
        require_resource(body, None)
    assert caught.value.status == 400
    assert caught.value.issues[0].code == "structure"


def test_body_without_resource_type_is_not_a_resource() -> None:
    with pytest.raises(FhirError) as caught:
        require_resource({"id": "1"}, None)
    assert caught.value.issues[0].code == "required"
    assert caught.value.issues[0].expression == ["resourceType"]


def test_unknown_resource_type_is_named() -> None:
    with pytest.raises(FhirError) as caught:
        require_resource({"resourceType": "Spaceship"}, None)
    assert "Spaceship" in caught.value.diagnostics


def test_resource_type_mismatch_names_both_types() -> None:
    with pytest.raises(FhirError) as caught:
        require_resource({"resourceType": "Observation"}, "Patient")
    assert caught.value.status == 400
    assert "Observation" in caught.value.diagnostics
    assert "Patient" in caught.value.diagnostics


def test_matching_resource_is_returned_as_is() -> None:
    patient = {"resourceType": "Patient", "id": "p1"}
    assert require_resource(patient, "Patient") is patient


def test_r4_resource_types_are_the_r4_list() -> None:
    assert len(R4_RESOURCE_TYPES) == 146
    assert {"Patient", "MedicinalProduct", "EffectEvidenceSynthesis"} <= R4_RESOURCE_TYPES
    # R4B-only and Medplum-only types are not R4.
    assert not {"SubscriptionStatus", "Citation", "Project", "Bot"} & R4_RESOURCE_TYPES
    assert not {"Resource", "DomainResource"} & R4_RESOURCE_TYPES
