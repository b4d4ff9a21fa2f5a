"""ABHA numbers and addresses: recognising, validating and canonicalising them.

An ABHA number is 14 digits, written 2-4-4-4 with hyphens (22-7225-4829-5255) or
without. NHA documents no checksum, so only digits, length and grouping are checked.
An ABHA address is `handle@abdm` (production) or `handle@sbx` (sandbox), case-insensitive.

Two identifier systems name the same health ID: NRCeS IG examples use
https://healthid.ndhm.gov.in, NHA's tooling https://healthid.abdm.gov.in. The index
stores one canonical token per health ID, and searches are rewritten to it, so either
system, with or without hyphens, finds the patient.
"""

from __future__ import annotations

import re

ABHA_NUMBER_SYSTEMS: tuple[str, ...] = (
    "https://healthid.ndhm.gov.in",
    "https://healthid.abdm.gov.in",
)
ABHA_ADDRESS_SYSTEMS: tuple[str, ...] = (
    "https://healthid.ndhm.gov.in/address",
    "https://healthid.abdm.gov.in/address",
    "https://abha.abdm.gov.in/address",
)
# the tokens the index keeps for every ABHA, whatever system the client wrote
CANONICAL_NUMBER_SYSTEM = "urn:abdm:abha-number"
CANONICAL_ADDRESS_SYSTEM = "urn:abdm:abha-address"
IDENTIFIER_TYPE_SYSTEM = "https://nrces.in/ndhm/fhir/r4/CodeSystem/ndhm-identifier-type-code"

_NUMBER = re.compile(r"\d{2}-?\d{4}-?\d{4}-?\d{4}")
_ADDRESS = re.compile(r"[A-Za-z0-9][A-Za-z0-9._]{2,31}@(abdm|sbx)", re.IGNORECASE)


def configure(number_systems: tuple[str, ...] | list[str]) -> None:
    """Replace the systems treated as ABHA numbers (setting FHIR_ABHA_NUMBER_SYSTEMS)."""
    global ABHA_NUMBER_SYSTEMS
    ABHA_NUMBER_SYSTEMS = tuple(number_systems)


def is_abha_number(value: str) -> bool:
    """14 digits, either bare or grouped exactly 2-4-4-4."""
    if not _NUMBER.fullmatch(value):
        return False
    return value.isdigit() or value.count("-") == 3


def is_abha_address(value: str) -> bool:
    return bool(_ADDRESS.fullmatch(value))


def number_digits(value: str) -> str:
    return value.replace("-", "")


def format_number(digits: str) -> str:
    return f"{digits[:2]}-{digits[2:6]}-{digits[6:10]}-{digits[10:]}"


def _type_codes(identifier: dict) -> set[str]:
    id_type = identifier.get("type")
    if not isinstance(id_type, dict):
        return set()
    return {
        c.get("code")
        for c in id_type.get("coding") or ()
        if isinstance(c, dict) and c.get("system") == IDENTIFIER_TYPE_SYSTEM
    }


def identifier_kind(identifier: dict) -> str | None:
    """'number' or 'address' when this Identifier claims to carry an ABHA, else None.

    The claim comes from the system or the NRCeS type code (HIN, ABHA); which of the two
    it is comes from the value's shape, since IG examples use both codes for both.
    """
    system = identifier.get("system")
    codes = _type_codes(identifier)
    claimed = (
        system in ABHA_NUMBER_SYSTEMS
        or system in ABHA_ADDRESS_SYSTEMS
        or "ABHA" in codes
        or "HIN" in codes
    )
    if not claimed:
        return None
    value = identifier.get("value")
    if system in ABHA_ADDRESS_SYSTEMS or (isinstance(value, str) and "@" in value):
        return "address"
    return "number"


def canonical_token(identifier: dict) -> tuple[str, str] | None:
    """The canonical (system, code) index token of an ABHA identifier, if it is one."""
    kind = identifier_kind(identifier)
    value = identifier.get("value")
    if kind is None or not isinstance(value, str):
        return None
    if kind == "number" and is_abha_number(value):
        return CANONICAL_NUMBER_SYSTEM, number_digits(value)
    if kind == "address" and is_abha_address(value):
        return CANONICAL_ADDRESS_SYSTEM, value.lower()
    return None


def canonical_search(system: str | None, code: str | None) -> tuple[str, str] | None:
    """A token search for a health ID, rewritten to the canonical index token."""
    if code is None:
        return None
    if system is None or system in ABHA_NUMBER_SYSTEMS or system in ABHA_ADDRESS_SYSTEMS:
        if is_abha_number(code) and (system is None or system in ABHA_NUMBER_SYSTEMS):
            return CANONICAL_NUMBER_SYSTEM, number_digits(code)
        if is_abha_address(code):
            return CANONICAL_ADDRESS_SYSTEM, code.lower()
    return None
