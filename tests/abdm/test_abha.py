"""ABHA number and address recognition and canonical tokens."""

from __future__ import annotations

import pytest

from fhir_server.abdm import abha


@pytest.mark.parametrize("value", ["22-7225-4829-5255", "22722548295255"])
def test_valid_abha_numbers(value: str) -> None:
    assert abha.is_abha_number(value)


@pytest.mark.parametrize(
    "value", ["2272254829525", "227225482952555", "22-72254829-5255", "2a-7225-4829-5255", ""]
)
def test_invalid_abha_numbers(value: str) -> None:
    assert not abha.is_abha_number(value)


@pytest.mark.parametrize("value", ["asha.sharma@abdm", "Asha.Sharma@ABDM", "ravi_k@sbx"])
def test_valid_abha_addresses(value: str) -> None:
    assert abha.is_abha_address(value)


@pytest.mark.parametrize("value", ["asha@gmail.com", "@abdm", "a@abdm", "asha sharma@abdm"])
def test_invalid_abha_addresses(value: str) -> None:
    assert not abha.is_abha_address(value)


def test_both_health_id_systems_give_the_same_canonical_token() -> None:
    ndhm = {"system": "https://healthid.ndhm.gov.in", "value": "22-7225-4829-5255"}
    abdm = {"system": "https://healthid.abdm.gov.in", "value": "22722548295255"}
    assert abha.canonical_token(ndhm) == abha.canonical_token(abdm)
    assert abha.canonical_token(ndhm) == (abha.CANONICAL_NUMBER_SYSTEM, "22722548295255")


def test_address_by_identifier_type_is_case_insensitive() -> None:
    identifier = {
        "type": {"coding": [{"system": abha.IDENTIFIER_TYPE_SYSTEM, "code": "ABHA"}]},
        "system": "https://example.org/anything",
        "value": "Asha.Sharma@ABDM",
    }
    assert abha.canonical_token(identifier) == (abha.CANONICAL_ADDRESS_SYSTEM, "asha.sharma@abdm")


def test_other_identifiers_have_no_canonical_token() -> None:
    assert abha.canonical_token({"system": "urn:mrn", "value": "22722548295255"}) is None


def test_search_rewrite() -> None:
    assert abha.canonical_search("https://healthid.abdm.gov.in", "22-7225-4829-5255") == (
        abha.CANONICAL_NUMBER_SYSTEM,
        "22722548295255",
    )
    assert abha.canonical_search(None, "ASHA.SHARMA@abdm") == (
        abha.CANONICAL_ADDRESS_SYSTEM,
        "asha.sharma@abdm",
    )
    assert abha.canonical_search("urn:mrn", "22722548295255") is None
