"""Write-time rules: malformed ABHA and clear Aadhaar are refused with 422."""

from __future__ import annotations

import pytest

from fhir_server.abdm.identifier_rules import HASH_PREFIX, check_identifiers
from fhir_server.errors import FhirError


def _patient(*identifiers: dict) -> dict:
    return {"resourceType": "Patient", "identifier": list(identifiers)}


def test_malformed_abha_number_is_422_naming_the_field() -> None:
    with pytest.raises(FhirError) as raised:
        check_identifiers(
            _patient(
                {"system": "urn:x", "value": "1"},
                {"system": "https://healthid.ndhm.gov.in", "value": "22-7225-4829"},
            )
        )
    assert raised.value.status == 422
    assert raised.value.issues[0].expression == ["Patient.identifier[1].value"]


def test_malformed_abha_address_is_422() -> None:
    with pytest.raises(FhirError) as raised:
        check_identifiers(
            _patient({"system": "https://healthid.abdm.gov.in/address", "value": "asha@gmail.com"})
        )
    assert raised.value.status == 422


@pytest.mark.parametrize(
    "identifier",
    [
        {"system": "https://uidai.gov.in/", "value": "1234 5678 9012"},
        {"type": {"coding": [{"code": "ADN"}]}, "system": "urn:any", "value": "123456789012"},
    ],
)
def test_clear_aadhaar_is_refused_without_echoing_it(identifier: dict) -> None:
    with pytest.raises(FhirError) as raised:
        check_identifiers(_patient(identifier))
    assert raised.value.status == 422
    assert "5678" not in str(raised.value.outcome())


def test_aadhaar_vault_token_is_accepted() -> None:
    check_identifiers(_patient({"system": "https://uidai.gov.in/", "value": "vault-7f3a9c"}))


def test_hash_policy_replaces_aadhaar_by_keyed_hash() -> None:
    resource = _patient({"system": "https://uidai.gov.in/", "value": "1234-5678-9012"})
    check_identifiers(resource, aadhaar_policy="hash", hash_key=b"k")
    stored = resource["identifier"][0]["value"]
    assert stored.startswith(HASH_PREFIX) and "9012" not in stored
    again = _patient({"system": "https://uidai.gov.in/", "value": "123456789012"})
    check_identifiers(again, aadhaar_policy="hash", hash_key=b"k")
    assert again["identifier"][0]["value"] == stored  # same Aadhaar, same token


def test_valid_abha_passes() -> None:
    check_identifiers(
        _patient({"system": "https://healthid.ndhm.gov.in", "value": "22-7225-4829-5255"})
    )
