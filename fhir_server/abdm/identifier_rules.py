"""Write-time rules for Indian identifiers (422 naming the element when broken).

- A malformed ABHA number or address is refused.
- Aadhaar must never be stored in clear: an identifier of the UIDAI system (or type ADN)
  whose value is 12 digits is refused, unless the policy is `hash`, which replaces the
  value by a keyed hash (HMAC-SHA256) so the same Aadhaar still matches itself. The value
  is never logged or echoed back.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from typing import Any

from fhir_server.abdm import abha
from fhir_server.errors import FhirError, Issue

AADHAAR_SYSTEMS = ("https://uidai.gov.in", "https://uidai.gov.in/", "http://uidai.gov.in")
_AADHAAR = re.compile(r"\d{4}[ -]?\d{4}[ -]?\d{4}")
_V2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203"
HASH_PREFIX = "hmac-sha256:"


def _is_aadhaar(identifier: dict[str, Any]) -> bool:
    system = identifier.get("system")
    if isinstance(system, str) and system.rstrip("/") in {s.rstrip("/") for s in AADHAAR_SYSTEMS}:
        return True
    id_type = identifier.get("type")
    if isinstance(id_type, dict):
        for coding in id_type.get("coding") or ():
            if isinstance(coding, dict) and coding.get("code") == "ADN":
                return True
    return False


def check_identifiers(
    resource: dict[str, Any], aadhaar_policy: str = "reject", hash_key: bytes = b""
) -> None:
    """Raise 422 for a broken ABHA or a clear Aadhaar; with policy `hash`, replace it."""
    type_ = resource.get("resourceType", "Resource")
    identifiers = resource.get("identifier")
    if not isinstance(identifiers, list):
        return
    issues: list[Issue] = []
    for index, identifier in enumerate(identifiers):
        if not isinstance(identifier, dict):
            continue
        where = f"{type_}.identifier[{index}].value"
        value = identifier.get("value")
        if _is_aadhaar(identifier) and isinstance(value, str) and _AADHAAR.fullmatch(value):
            if aadhaar_policy == "hash" and hash_key:
                digits = re.sub(r"\D", "", value)
                digest = hmac.new(hash_key, digits.encode(), hashlib.sha256).hexdigest()
                identifier["value"] = HASH_PREFIX + digest
                continue
            issues.append(
                Issue(
                    "error",
                    "security",
                    "An Aadhaar number may not be stored in clear: store only a reference"
                    " token from an Aadhaar Data Vault (the value was not recorded)",
                    [where],
                )
            )
            continue
        kind = abha.identifier_kind(identifier)
        if kind is None or not isinstance(value, str):
            continue
        if kind == "number" and not abha.is_abha_number(value):
            issues.append(
                Issue(
                    "error",
                    "value",
                    f"{value!r} is not an ABHA number: 14 digits, optionally as 2-4-4-4"
                    " with hyphens (e.g. 22-7225-4829-5255)",
                    [where],
                )
            )
        elif kind == "address" and not abha.is_abha_address(value):
            issues.append(
                Issue(
                    "error",
                    "value",
                    f"{value!r} is not an ABHA address: handle@abdm (or handle@sbx in the sandbox)",
                    [where],
                )
            )
    if issues:
        raise FhirError(422, "processing", issues[0].diagnostics, issues=issues)
