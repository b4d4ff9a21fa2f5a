"""Charges, invoices, accounts, AB-PMJAY coverage, claims and claim responses.

Invoice arithmetic (what a billing check can recompute), per line item:
  base (01 Rate) = unit rate x quantity; discount (02), if any, is subtracted;
  net = base - discount; CGST (03) and SGST (04) are each round(net x half the GST rate);
  MRP (00) is informational and counts in no total.
totalNet = sum of the lines' net; totalGross = totalNet + every CGST and SGST amount.
Amounts are Decimal, rounded half-up to paise, so the totals add up exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from fhir_server.generate.fhir import (
    BILLING_CODES,
    PRICE_COMPONENTS,
    V3_ACT,
    Resource,
    coding,
    concept,
    paise,
    ref,
    rupees,
)

CHARGE_ITEM_CODE = "urn:fhir-server:charge-code"  # the facility's own tariff codes
PMJAY_SCHEME = "https://pmjay.gov.in"
CLAIM_TYPE = "http://terminology.hl7.org/CodeSystem/claim-type"
ADJUDICATION = "http://terminology.hl7.org/CodeSystem/adjudication"
PROCESS_PRIORITY = "http://terminology.hl7.org/CodeSystem/processpriority"
_PRICE = {
    "00": "MRP",
    "01": "Rate",
    "02": "Discount",
    "03": "CGST",
    "04": "SGST",
}


@dataclass(frozen=True)
class Line:
    charge_item_id: str
    code: str  # tariff code
    text: str
    quantity: Decimal
    rate: Decimal  # per unit, before tax
    gst: Decimal = Decimal(0)  # total GST rate, split equally into CGST and SGST
    mrp: Decimal | None = None  # per unit, informational
    discount: Decimal = Decimal(0)

    @property
    def base(self) -> Decimal:
        return paise(self.rate * self.quantity)

    @property
    def net(self) -> Decimal:
        return self.base - paise(self.discount)

    @property
    def half_tax(self) -> Decimal:
        return paise(self.net * self.gst / 2)

    @property
    def gross(self) -> Decimal:
        return self.net + 2 * self.half_tax


def _component(type_: str, code: str, amount: Decimal, factor: Decimal | None = None) -> dict:
    out: dict = {"type": type_, "code": concept(PRICE_COMPONENTS, code, _PRICE[code])}
    if factor is not None:
        out["factor"] = float(factor)
    out["amount"] = rupees(amount)
    return out


def price_components(line: Line) -> list[dict]:
    parts = [_component("base", "01", line.base)]
    if line.mrp is not None:
        parts.append(_component("informational", "00", paise(line.mrp * line.quantity)))
    if line.discount:
        parts.append(_component("discount", "02", paise(line.discount)))
    if line.gst:
        parts.append(_component("tax", "03", line.half_tax, line.gst / 2))
        parts.append(_component("tax", "04", line.half_tax, line.gst / 2))
    return parts


def charge_item(
    line: Line,
    patient_id: str,
    encounter_id: str | None,
    org_id: str,
    account_id: str,
    when: str,
    enterer: str | None = None,
) -> Resource:
    item: Resource = {
        "resourceType": "ChargeItem",
        "id": line.charge_item_id,
        "status": "billed",
        "code": {"coding": [coding(CHARGE_ITEM_CODE, line.code, line.text)], "text": line.text},
        "subject": ref("Patient", patient_id),
    }
    if encounter_id:
        item["context"] = ref("Encounter", encounter_id)
    item |= {
        "occurrenceDateTime": when,
        "performingOrganization": ref("Organization", org_id),
        "quantity": {"value": float(line.quantity)},
        "priceOverride": rupees(line.gross),
        "enteredDate": when,
        "account": [ref("Account", account_id)],
    }
    if enterer:
        item["enterer"] = ref("Practitioner", enterer)
    return item


def invoice(
    invoice_id: str,
    number: str,
    kind: tuple[str, str],  # ndhm-billing-codes (code, display)
    lines: list[Line],
    patient_id: str,
    org_id: str,
    account_id: str,
    when: str,
) -> Resource:
    total_net = sum((line.net for line in lines), Decimal(0))
    total_gross = sum((line.gross for line in lines), Decimal(0))
    return {
        "resourceType": "Invoice",
        "id": invoice_id,
        "identifier": [{"system": f"urn:fhir-server:invoice-number:{org_id}", "value": number}],
        "status": "balanced",
        "type": concept(BILLING_CODES, kind[0], kind[1]),
        "subject": ref("Patient", patient_id),
        "recipient": ref("Patient", patient_id),
        "date": when,
        "issuer": ref("Organization", org_id),
        "account": ref("Account", account_id),
        "lineItem": [
            {
                "sequence": i,
                "chargeItemReference": ref("ChargeItem", line.charge_item_id, line.text),
                "priceComponent": price_components(line),
            }
            for i, line in enumerate(lines, start=1)
        ],
        "totalNet": rupees(total_net),
        "totalGross": rupees(total_gross),
        "paymentTerms": "Paid at the counter" if total_gross else "No charge",
    }


def account(account_id: str, patient_id: str, org_id: str, name: str, start: str) -> Resource:
    return {
        "resourceType": "Account",
        "id": account_id,
        "status": "active",
        "type": concept(V3_ACT, "PBILLACCT", "patient billing account"),
        "name": name,
        "subject": [ref("Patient", patient_id)],
        "servicePeriod": {"start": start},
        "owner": ref("Organization", org_id),
    }


def coverage(coverage_id: str, patient_id: str, pmjay_id: str, start: str) -> Resource:
    return {
        "resourceType": "Coverage",
        "id": coverage_id,
        "identifier": [{"system": f"{PMJAY_SCHEME}/beneficiary-id", "value": pmjay_id}],
        "status": "active",
        "type": {
            "coding": [coding(V3_ACT, "PUBLICPOL", "public healthcare")],
            "text": "Ayushman Bharat Pradhan Mantri Jan Arogya Yojana (AB-PMJAY)",
        },
        "subscriberId": pmjay_id,
        "beneficiary": ref("Patient", patient_id),
        "relationship": concept(
            "http://terminology.hl7.org/CodeSystem/subscriber-relationship", "self", "Self"
        ),
        "period": {"start": start},
        "payor": [ref("Organization", "org-nha", "National Health Authority")],
        "class": [
            {
                "type": concept(
                    "http://terminology.hl7.org/CodeSystem/coverage-class", "plan", "Plan"
                ),
                "value": "AB-PMJAY",
                "name": "Family floater cover of Rs 5 lakh a year, secondary and tertiary care",
            }
        ],
    }


def claim(
    claim_id: str,
    patient_id: str,
    org_id: str,
    coverage_id: str,
    encounter_id: str,
    lines: list[Line],
    diagnosis_ids: list[str],
    when: str,
) -> Resource:
    total = sum((line.gross for line in lines), Decimal(0))
    return {
        "resourceType": "Claim",
        "id": claim_id,
        "status": "active",
        "type": concept(CLAIM_TYPE, "institutional", "Institutional"),
        "use": "claim",
        "patient": ref("Patient", patient_id),
        "created": when,
        "insurer": ref("Organization", "org-nha", "National Health Authority"),
        "provider": ref("Organization", org_id),
        "priority": concept(PROCESS_PRIORITY, "normal", "Normal"),
        "diagnosis": [
            {"sequence": i, "diagnosisReference": ref("Condition", cond)}
            for i, cond in enumerate(diagnosis_ids, start=1)
        ],
        "insurance": [{"sequence": 1, "focal": True, "coverage": ref("Coverage", coverage_id)}],
        "item": [
            {
                "sequence": i,
                "productOrService": {"text": line.text},
                "quantity": {"value": float(line.quantity)},
                "unitPrice": rupees(line.rate),
                "net": rupees(line.gross),
                "encounter": [ref("Encounter", encounter_id)],
            }
            for i, line in enumerate(lines, start=1)
        ],
        "total": rupees(total),
    }


def claim_response(response_id: str, claim_resource: Resource, when: str) -> Resource:
    """Approved in full: AB-PMJAY pays package rates, so the patient pays nothing."""
    items = []
    for item in claim_resource["item"]:
        amount = item["net"]
        items.append(
            {
                "itemSequence": item["sequence"],
                "adjudication": [
                    {
                        "category": concept(ADJUDICATION, "submitted", "Submitted Amount"),
                        "amount": amount,
                    },
                    {
                        "category": concept(ADJUDICATION, "benefit", "Benefit Amount"),
                        "amount": amount,
                    },
                ],
            }
        )
    total = claim_resource["total"]
    return {
        "resourceType": "ClaimResponse",
        "id": response_id,
        "status": "active",
        "type": claim_resource["type"],
        "use": "claim",
        "patient": claim_resource["patient"],
        "created": when,
        "insurer": ref("Organization", "org-nha", "National Health Authority"),
        "requestor": claim_resource["provider"],
        "request": ref("Claim", claim_resource["id"]),
        "outcome": "complete",
        "disposition": "Approved under AB-PMJAY package rates",
        "item": items,
        "total": [
            {"category": concept(ADJUDICATION, "submitted", "Submitted Amount"), "amount": total},
            {"category": concept(ADJUDICATION, "benefit", "Benefit Amount"), "amount": total},
        ],
        "payment": {
            "type": concept(
                "http://terminology.hl7.org/CodeSystem/ex-paymenttype", "complete", "Complete"
            ),
            "date": when[:10],
            "amount": total,
        },
    }
