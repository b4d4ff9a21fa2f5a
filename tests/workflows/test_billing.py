"""Billing and claims: ChargeItems -> Invoice whose NRCeS price components add up ->
an AB-PMJAY Coverage -> a Claim for the Invoice -> the payer's ClaimResponse."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.workflows.network import clinic, put

NRCES_PRICE = "https://nrces.in/ndhm/fhir/r4/CodeSystem/ndhm-price-components"


def _money(value: float) -> dict[str, Any]:
    return {"value": value, "currency": "INR"}


def _component(kind: str, code: str, amount: float, factor: float | None = None) -> dict:
    out: dict[str, Any] = {
        "type": kind,
        "code": {"coding": [{"system": NRCES_PRICE, "code": code}]},
        "amount": _money(amount),
    }
    if factor is not None:
        out["factor"] = factor
    return out


def _invoice(lines: list[list[dict]], net: float, gross: float) -> dict[str, Any]:
    return {
        "resourceType": "Invoice",
        "status": "issued",
        "subject": {"reference": "Patient/asha"},
        "issuer": {"reference": "Organization/aam-dwarka"},
        "lineItem": [
            {
                "sequence": i + 1,
                "chargeItemCodeableConcept": {"text": f"line {i + 1}"},
                "priceComponent": components,
            }
            for i, components in enumerate(lines)
        ],
        "totalNet": _money(net),
        "totalGross": _money(gross),
    }


# Metformin 500 mg x 60 at Rs 63, GST 5% = CGST 2.5% + SGST 2.5% (Rs 1.58 each, half-up)
METFORMIN = [
    _component("base", "01", 63.0),
    _component("informational", "00", 66.6),  # MRP: counts in no total
    _component("tax", "03", 1.58, 0.025),
    _component("tax", "04", 1.58, 0.025),
]


def _charge(client: TestClient, id_: str, text: str, price: float) -> str:
    put(
        client,
        {
            "resourceType": "ChargeItem",
            "id": id_,
            "status": "billable",
            "code": {"text": text},
            "subject": {"reference": "Patient/asha"},
            "priceOverride": _money(price),
        },
    )
    return f"ChargeItem/{id_}"


def _bill_a_visit(client: TestClient) -> dict[str, Any]:
    """Consultation, an HbA1c test and the medicine, billed on one Invoice."""
    clinic(client, slots=0)
    items = [
        _charge(client, "chg-opd", "OPD consultation", 300.0),
        _charge(client, "chg-hba1c", "HbA1c", 450.0),
        _charge(client, "chg-metformin", "Metformin 500 mg x 60", 63.0),
    ]
    invoice = _invoice(
        [[_component("base", "01", 300.0)], [_component("base", "01", 450.0)], METFORMIN],
        net=813.0,
        gross=816.16,
    )
    for line, item in zip(invoice["lineItem"], items, strict=True):
        del line["chargeItemCodeableConcept"]
        line["chargeItemReference"] = {"reference": item}
    response = client.post("/fhir/Invoice", json=invoice)
    assert response.status_code == 201, response.text
    return response.json()


def _pmjay_coverage(client: TestClient) -> None:
    put(
        client,
        {
            "resourceType": "Organization",
            "id": "nha",
            "name": "National Health Authority",
            "type": [
                {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/organization-type",
                            "code": "pay",
                        }
                    ]
                }
            ],
        },
    )
    put(
        client,
        {
            "resourceType": "Coverage",
            "id": "cov-asha-pmjay",
            "status": "active",
            "type": {"text": "Ayushman Bharat Pradhan Mantri Jan Arogya Yojana (AB-PMJAY)"},
            "subscriberId": "PF2W7J3NA",
            "beneficiary": {"reference": "Patient/asha"},
            "payor": [{"reference": "Organization/nha"}],
            "class": [{"type": {"text": "plan"}, "value": "AB-PMJAY"}],
        },
    )


def _claim(invoice: dict[str, Any]) -> dict[str, Any]:
    """A Claim for the Invoice: one supportingInfo per ChargeItem, one item per line."""
    lines = invoice["lineItem"]
    return {
        "resourceType": "Claim",
        "status": "active",
        "type": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/claim-type",
                    "code": "professional",
                }
            ]
        },
        "use": "claim",
        "patient": {"reference": "Patient/asha"},
        "created": "2026-12-01T12:00:00+05:30",
        "insurer": {"reference": "Organization/nha"},
        "provider": {"reference": "Organization/aam-dwarka"},
        "priority": {"coding": [{"code": "normal"}]},
        "insurance": [
            {"sequence": 1, "focal": True, "coverage": {"reference": "Coverage/cov-asha-pmjay"}}
        ],
        "supportingInfo": [
            {
                "sequence": 1,
                "category": {"text": "invoice"},
                "valueReference": {"reference": f"Invoice/{invoice['id']}"},
            },
            *(
                {
                    "sequence": i + 2,
                    "category": {"text": "charge item"},
                    "valueReference": line["chargeItemReference"],
                }
                for i, line in enumerate(lines)
            ),
        ],
        "item": [
            {
                "sequence": i + 1,
                "informationSequence": [i + 2],
                "productOrService": {"text": line["chargeItemReference"]["reference"]},
                "net": _money(
                    sum(
                        c["amount"]["value"]
                        for c in line["priceComponent"]
                        if c["type"] in ("base", "tax")
                    )
                ),
            }
            for i, line in enumerate(lines)
        ],
        "total": invoice["totalGross"],
    }


def _claim_response(claim: dict[str, Any]) -> dict[str, Any]:
    return {
        "resourceType": "ClaimResponse",
        "status": "active",
        "type": claim["type"],
        "use": "claim",
        "patient": {"reference": "Patient/asha"},
        "created": "2026-12-03T12:00:00+05:30",
        "insurer": {"reference": "Organization/nha"},
        "request": {"reference": f"Claim/{claim['id']}"},
        "outcome": "complete",
        "disposition": "Approved under AB-PMJAY package rates",
        "total": [{"category": {"coding": [{"code": "benefit"}]}, "amount": claim["total"]}],
    }


def _total(client: TestClient, url: str) -> int:
    response = client.get(url)
    assert response.status_code == 200, response.text
    return response.json()["total"]


def test_visit_is_billed_and_claimed_under_pmjay(client: TestClient) -> None:
    invoice = _bill_a_visit(client)
    _pmjay_coverage(client)
    claim = client.post("/fhir/Claim", json=_claim(invoice))
    assert claim.status_code == 201, claim.text
    answer = client.post("/fhir/ClaimResponse", json=_claim_response(claim.json()))
    assert answer.status_code == 201, answer.text

    # the hospital's billing desk and the patient app find all of it by patient
    assert _total(client, "/fhir/ChargeItem?patient=Patient/asha") == 3
    assert _total(client, "/fhir/Invoice?patient=Patient/asha") == 1
    assert _total(client, "/fhir/Coverage?beneficiary=Patient/asha&payor=Organization/nha") == 1
    assert _total(client, "/fhir/Claim?patient=Patient/asha") == 1
    assert _total(client, f"/fhir/ClaimResponse?request=Claim/{claim.json()['id']}") == 1
    assert _total(client, "/fhir/ClaimResponse?patient=Patient/asha&outcome=complete") == 1


def test_claim_against_a_coverage_that_does_not_exist_is_422(client: TestClient) -> None:
    invoice = _bill_a_visit(client)
    _pmjay_coverage(client)
    claim = _claim(invoice)
    claim["insurance"][0]["coverage"] = {"reference": "Coverage/cov-nobody"}
    response = client.post("/fhir/Claim", json=claim)
    assert response.status_code == 422
    assert response.json()["issue"][0]["expression"] == ["Claim.insurance[0].coverage.reference"]


def test_invoice_whose_totals_add_up_is_stored(client: TestClient) -> None:
    clinic(client, slots=0)
    response = client.post("/fhir/Invoice", json=_invoice([METFORMIN], 63.0, 66.16))
    assert response.status_code == 201, response.text


def test_invoice_with_wrong_gross_total_is_422(client: TestClient) -> None:
    clinic(client, slots=0)
    response = client.post("/fhir/Invoice", json=_invoice([METFORMIN], 63.0, 70.0))
    assert response.status_code == 422
    assert response.json()["issue"][0]["expression"] == ["Invoice.totalGross"]


def test_invoice_with_wrong_gst_is_422(client: TestClient) -> None:
    clinic(client, slots=0)
    wrong_cgst = [*METFORMIN[:2], _component("tax", "03", 3.0, 0.025), METFORMIN[3]]
    response = client.post("/fhir/Invoice", json=_invoice([wrong_cgst], 63.0, 67.58))
    assert response.status_code == 422
    assert "factor" in response.json()["issue"][0]["diagnostics"]


# Rs 100 rate less a Rs 10 discount: GST is on the Rs 90 net (2.25 + 2.25)
DISCOUNTED = [
    _component("base", "01", 100.0),
    _component("discount", "02", 10.0),
    _component("tax", "03", 2.25, 0.025),
    _component("tax", "04", 2.25, 0.025),
]


def test_discount_is_taken_off_before_tax(client: TestClient) -> None:
    clinic(client, slots=0)
    response = client.post("/fhir/Invoice", json=_invoice([DISCOUNTED], 90.0, 94.5))
    assert response.status_code == 201, response.text


def test_invoice_that_ignores_its_discount_is_422(client: TestClient) -> None:
    clinic(client, slots=0)
    response = client.post("/fhir/Invoice", json=_invoice([DISCOUNTED], 100.0, 104.5))
    assert response.status_code == 422
    issue = response.json()["issue"][0]
    assert issue["expression"] == ["Invoice.totalNet"]
    assert "add up to 90" in issue["diagnostics"]
