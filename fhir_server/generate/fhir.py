"""Small builders for FHIR datatypes, so the resource builders read like the data."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from fhir_server.abdm.registries import HFR_SYSTEM

Resource = dict[str, Any]

SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
ICD10 = "http://hl7.org/fhir/sid/icd-10"
UCUM = "http://unitsofmeasure.org"
CVX = "http://hl7.org/fhir/sid/cvx"
V3_ACT = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
V3_ROLE = "http://terminology.hl7.org/CodeSystem/v3-RoleCode"
INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
NRCES = "https://nrces.in/ndhm/fhir/r4/CodeSystem"
ID_TYPE = f"{NRCES}/ndhm-identifier-type-code"
PRICE_COMPONENTS = f"{NRCES}/ndhm-price-components"
BILLING_CODES = f"{NRCES}/ndhm-billing-codes"
HFR = HFR_SYSTEM  # the facility registry system the server stamps writes with
HPR = "https://doctor.ndhm.gov.in"
ABHA_NUMBER = "https://healthid.ndhm.gov.in"
ABHA_ADDRESS = "https://healthid.ndhm.gov.in/address"
# Delhi is state 07 in the Local Government Directory (the codes HFR uses). No NRCeS
# extension carries it, so this project's own extension does, on address.state.
LGD = "https://lgdirectory.gov.in"
STATE_CODE_EXTENSION = "urn:fhir-server:extension:lgd-state-code"
IST = "+05:30"


def coding(system: str, code: str, display: str | None = None) -> dict[str, str]:
    out = {"system": system, "code": code}
    if display:
        out["display"] = display
    return out


def concept(system: str, code: str, display: str, text: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"coding": [coding(system, code, display)]}
    if text:
        out["text"] = text
    return out


def ref(type_: str, id_: str, display: str | None = None) -> dict[str, str]:
    out = {"reference": f"{type_}/{id_}"}
    if display:
        out["display"] = display
    return out


def rupees(amount: Decimal) -> dict[str, Any]:
    # Decimal -> float keeps two places exactly in JSON for amounts below 10^13
    return {"value": float(amount), "currency": "INR"}


def paise(value: Decimal | int | float | str) -> Decimal:
    """Round to 2 places the way a till does (half up), so totals add up exactly."""
    return Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def quantity(value: float | int, unit: str, code: str | None = None) -> dict[str, Any]:
    return {"value": value, "unit": unit, "system": UCUM, "code": code or unit}


def put(resource: Resource) -> dict[str, Any]:
    """A transaction entry updating the resource by its id (idempotent on reload)."""
    url = f"{resource['resourceType']}/{resource['id']}"
    return {"fullUrl": url, "resource": resource, "request": {"method": "PUT", "url": url}}


def transaction(resources: list[Resource]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "transaction", "entry": [put(r) for r in resources]}


def abha_identifiers(number: str, address: str) -> list[dict[str, Any]]:
    """ABHA number (type HIN) and ABHA address (type ABHA), as the NRCeS IG types them."""
    return [
        {
            "type": concept(ID_TYPE, "HIN", "Health ID number"),
            "system": ABHA_NUMBER,
            "value": number,
        },
        {
            "type": concept(ID_TYPE, "ABHA", "ABHA address"),
            "system": ABHA_ADDRESS,
            "value": address,
        },
    ]


def delhi_address(line: str, district: str, pin: str, use: str | None = None) -> dict[str, Any]:
    """address.state is "Delhi" and the LGD state code 07 rides in an extension on it."""
    out: dict[str, Any] = {}
    if use:
        out["use"] = use
    out.update(
        {
            "line": [line],
            "city": "New Delhi" if district in ("New Delhi", "Central Delhi") else "Delhi",
            "district": district,
            "state": "Delhi",
            "_state": {
                "extension": [
                    {"url": STATE_CODE_EXTENSION, "valueCoding": coding(LGD, "07", "Delhi")}
                ]
            },
            "postalCode": pin,
            "country": "IN",
        }
    )
    return out
