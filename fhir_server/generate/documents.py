"""ABDM health-record documents: one sample Bundle of each NRCeS document kind.

Each is a `document` Bundle (Composition first, Bundle.identifier, timestamp), its
entries addressed by `urn:uuid:` fullUrls derived from names (uuid5), so the files are
the same bytes on every run. The Patient carries the ABHA of a seed patient; the events
are new visits (November 2026), so ingesting a document adds to that person's record
rather than repeating it. Composition types follow the NRCeS IG (v6): SNOMED CT codes
for the clinical records, and a fixed `type.text` for WellnessRecord and InvoiceRecord,
which the IG profiles with text only.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from fhir_server.generate import billing, clinical, facilities, output, stories
from fhir_server.generate.facilities import Staff
from fhir_server.generate.fhir import (
    HFR,
    HPR,
    INTERPRETATION,
    LOINC,
    SNOMED,
    V3_ACT,
    Resource,
    abha_identifiers,
    coding,
    concept,
    delhi_address,
    quantity,
)
from fhir_server.generate.places import Facility, facility
from fhir_server.generate.records import Person, flag, reference_range

FOLDER = "abdm-documents"
NRCES_SD = "https://nrces.in/ndhm/fhir/r4/StructureDefinition"
_NAMESPACE = uuid.UUID("6f1d3c2e-8a4b-5c7d-9e0f-112233445566")
_PEOPLE = {p.key: p for p in stories.PEOPLE}


class Document:
    """Collects a document's entries; `add` returns the urn:uuid to reference it by."""

    def __init__(self, name: str, profile: str, when: str) -> None:
        self.name = name
        self.profile = profile
        self.when = when
        self.entries: list[Resource] = []

    def uid(self, key: str) -> str:
        return str(uuid.uuid5(_NAMESPACE, f"{self.name}/{key}"))

    def add(self, key: str, resource: Resource, profile: str | None = None) -> str:
        resource = {"resourceType": resource["resourceType"], "id": self.uid(key)} | {
            k: v for k, v in resource.items() if k != "resourceType"
        }
        if profile:
            resource = {
                "resourceType": resource["resourceType"],
                "id": resource["id"],
                "meta": {"profile": [f"{NRCES_SD}/{profile}"]},
            } | {k: v for k, v in resource.items() if k not in ("resourceType", "id")}
        self.entries.append(resource)
        return f"urn:uuid:{resource['id']}"

    def bundle(self, composition: Resource) -> Resource:
        comp_uid = self.uid("composition")
        composition = {
            "resourceType": "Composition",
            "id": comp_uid,
            "meta": {"profile": [f"{NRCES_SD}/{self.profile}"]},
            "language": "en-IN",
        } | composition
        entries = [composition, *self.entries]
        return {
            "resourceType": "Bundle",
            "id": self.uid("bundle"),
            "meta": {"lastUpdated": self.when, "profile": [f"{NRCES_SD}/DocumentBundle"]},
            "identifier": {"system": "urn:ietf:rfc:3986", "value": f"urn:uuid:{self.uid('id')}"},
            "type": "document",
            "timestamp": self.when,
            "entry": [{"fullUrl": f"urn:uuid:{r['id']}", "resource": r} for r in entries],
        }


def _r(reference: str, display: str | None = None) -> dict[str, str]:
    out = {"reference": reference}
    if display:
        out["display"] = display
    return out


def _patient(doc: Document, person: Person, site: Facility) -> str:
    line, district, pin = person.home
    return doc.add(
        "patient",
        {
            "resourceType": "Patient",
            "identifier": abha_identifiers(person.abha_number, person.abha_address),
            "name": person.name.fhir(),
            "telecom": [{"system": "phone", "value": person.phone, "use": "mobile"}],
            "gender": person.gender,
            "birthDate": person.birth_date,
            "address": [delhi_address(line, district, pin, "home")],
            "managingOrganization": {"display": site.name},
        },
        "Patient",
    )


def _practitioner(doc: Document, member: Staff) -> str:
    return doc.add(
        "practitioner",
        {
            "resourceType": "Practitioner",
            "identifier": [{"system": HPR, "value": member.hpr}],
            "name": member.name.fhir("Dr." if member.is_doctor else None),
            "gender": member.gender,
        },
        "Practitioner",
    )


def _organization(doc: Document, site: Facility) -> str:
    return doc.add(
        "organization",
        {
            "resourceType": "Organization",
            "identifier": [{"system": HFR, "value": site.hfr}],
            "name": site.name,
            "alias": [site.name_hi],
            "telecom": [{"system": "phone", "value": site.phone, "use": "work"}],
        },
        "Organization",
    )


def _encounter(doc: Document, patient: str, site_ref: str, kind: str, start: str, end: str) -> str:
    return doc.add(
        "encounter",
        {
            "resourceType": "Encounter",
            "status": "finished",
            "class": coding(
                V3_ACT, kind, {"AMB": "ambulatory", "IMP": "inpatient encounter"}[kind]
            ),
            "subject": _r(patient),
            "period": {"start": start, "end": end},
            "serviceProvider": _r(site_ref),
        },
        "Encounter",
    )


def _section(title: str, code: str, display: str, entries: list[str]) -> dict[str, Any]:
    return {
        "title": title,
        "code": concept(SNOMED, code, display),
        "entry": [_r(e) for e in entries],
    }


def _composition(
    doc: Document,
    type_: dict,
    title: str,
    patient: str,
    author: str,
    custodian: str,
    sections: list[dict],
    encounter: str | None = None,
) -> Resource:
    out: Resource = {
        "identifier": {"system": "urn:ietf:rfc:3986", "value": f"urn:uuid:{doc.uid('cid')}"},
        "status": "final",
        "type": type_,
        "subject": _r(patient),
    }
    if encounter:
        out["encounter"] = _r(encounter)
    out |= {
        "date": doc.when,
        "author": [_r(author)],
        "title": title,
        "custodian": _r(custodian),
        "section": sections,
    }
    return out


def _staff(org_id: str, suffix: str) -> Staff:
    for member in facilities.staff():
        if member.org.org_id == org_id and member.role_id.endswith(f"-{suffix}"):
            return member
    raise KeyError((org_id, suffix))


def _condition(doc: Document, key: str, patient: str, code: str, status: str) -> str:
    return doc.add(
        key,
        {
            "resourceType": "Condition",
            "clinicalStatus": concept(
                "http://terminology.hl7.org/CodeSystem/condition-clinical",
                status,
                status.capitalize(),
            ),
            "code": clinical.diagnosis(code),
            "subject": _r(patient),
        },
        "Condition",
    )


def _med_request(
    doc: Document, key: str, patient: str, author: str, med_key: str, when: str, days: int
) -> str:
    med = clinical.MEDICINES[med_key]
    return doc.add(
        key,
        {
            "resourceType": "MedicationRequest",
            "status": "active",
            "intent": "order",
            "medicationCodeableConcept": {"text": med.name},
            "subject": _r(patient),
            "authoredOn": when,
            "requester": _r(author),
            "dosageInstruction": [{"text": med.dosage}],
            "dispenseRequest": {
                "quantity": {"value": max(med.per_day, 1) * days, "unit": med.unit}
            },
        },
        "MedicationRequest",
    )


def _lab_observation(
    doc: Document,
    key: str,
    patient: str,
    test: clinical.LabTest,
    value: float,
    when: str,
    performer: str,
) -> str:
    code = flag(test, value)
    display = {"H": "High", "L": "Low", "N": "Normal"}[code]
    return doc.add(
        key,
        {
            "resourceType": "Observation",
            "status": "final",
            "category": [
                concept(
                    "http://terminology.hl7.org/CodeSystem/observation-category",
                    "laboratory",
                    "Laboratory",
                )
            ],
            "code": clinical.lab_code(test),
            "subject": _r(patient),
            "effectiveDateTime": when,
            "performer": [_r(performer)],
            "valueQuantity": quantity(value, test.unit),
            "interpretation": [concept(INTERPRETATION, code, display)],
            "referenceRange": [reference_range(test)],
        },
        "Observation",
    )


# --- the eight documents -------------------------------------------------------------------
def op_consult() -> Resource:
    person, site, doctor = _PEOPLE["asha"], facility("org-lnh"), _staff("org-lnh", "medicine")
    doc = Document("op-consult-asha", "OPConsultRecord", "2026-11-20T11:05:00+05:30")
    patient = _patient(doc, person, site)
    author = _practitioner(doc, doctor)
    org = _organization(doc, site)
    enc = _encounter(
        doc, patient, org, "AMB", "2026-11-20T10:40:00+05:30", "2026-11-20T11:00:00+05:30"
    )
    complaint = doc.add(
        "complaint",
        {
            "resourceType": "Condition",
            "clinicalStatus": concept(
                "http://terminology.hl7.org/CodeSystem/condition-clinical", "active", "Active"
            ),
            "code": concept(SNOMED, "84229001", "Fatigue", "Tiredness for three weeks"),
            "subject": _r(patient),
        },
        "Condition",
    )
    history = _condition(doc, "history", patient, "E11.9", "active")
    allergy = doc.add(
        "allergy",
        {
            "resourceType": "AllergyIntolerance",
            "clinicalStatus": concept(
                "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical",
                "active",
                "Active",
            ),
            "code": concept(SNOMED, *clinical.ALLERGENS["sulfonamide"][:2]),
            "patient": _r(patient),
        },
        "AllergyIntolerance",
    )
    medication = _med_request(doc, "metformin", patient, author, "metformin", "2026-11-20", 30)
    follow_up = doc.add(
        "follow-up",
        {
            "resourceType": "Appointment",
            "status": "proposed",
            "description": "Review with HbA1c and haemoglobin reports in four weeks",
            "start": "2026-12-18T10:00:00+05:30",
            "end": "2026-12-18T10:20:00+05:30",
            "participant": [{"actor": _r(patient), "status": "needs-action"}],
        },
        "Appointment",
    )
    investigations = doc.add(
        "investigations",
        {
            "resourceType": "ServiceRequest",
            "status": "active",
            "intent": "order",
            "code": clinical.lab_code(clinical.PANELS["cbc"]),
            "subject": _r(patient),
            "requester": _r(author),
        },
        "ServiceRequest",
    )
    comp = _composition(
        doc,
        concept(SNOMED, "371530004", "Clinical consultation report"),
        "OP Consultation Record",
        patient,
        author,
        org,
        [
            _section("Chief complaints", "422843007", "Chief complaint section", [complaint]),
            _section("Allergies", "722446000", "Allergy record", [allergy]),
            _section("Medical History", "371529009", "History and physical report", [history]),
            _section("Investigation Advice", "721963009", "Order document", [investigations]),
            _section("Medications", "721912009", "Medication summary document", [medication]),
            _section("Follow Up", "736271009", "Outpatient care plan", [follow_up]),
        ],
        enc,
    )
    return doc.bundle(comp)


def prescription() -> Resource:
    person, site = _PEOPLE["ramesh"], facility("org-aam-jahangirpuri")
    doctor = _staff("org-aam-jahangirpuri", "mo")
    doc = Document("prescription-ramesh", "PrescriptionRecord", "2026-11-17T10:20:00+05:30")
    patient = _patient(doc, person, site)
    author = _practitioner(doc, doctor)
    org = _organization(doc, site)
    meds = [
        _med_request(doc, key, patient, author, key, "2026-11-17", 30)
        for key in ("metformin", "glimepiride", "amlodipine", "atorvastatin")
    ]
    comp = _composition(
        doc,
        concept(SNOMED, "440545006", "Prescription record"),
        "Prescription record",
        patient,
        author,
        org,
        [_section("Prescription record", "440545006", "Prescription record", meds)],
    )
    return doc.bundle(comp)


def diagnostic_report() -> Resource:
    person, site = _PEOPLE["kavita"], facility("org-mmmh")
    pathologist = _staff("org-mmmh", "pathology")
    doc = Document(
        "diagnostic-report-kavita", "DiagnosticReportRecord", "2026-11-18T15:30:00+05:30"
    )
    patient = _patient(doc, person, site)
    author = _practitioner(doc, pathologist)
    org = _organization(doc, site)
    when = "2026-11-18T09:10:00+05:30"
    results = [
        _lab_observation(doc, "tsh", patient, clinical.TSH, 2.4, when, author),
        _lab_observation(doc, "hb", patient, clinical.HEMOGLOBIN, 11.6, when, author),
    ]
    report = doc.add(
        "report",
        {
            "resourceType": "DiagnosticReport",
            "status": "final",
            "category": [
                concept("http://terminology.hl7.org/CodeSystem/v2-0074", "LAB", "Laboratory")
            ],
            "code": {"text": "Thyroid stimulating hormone and haemoglobin"},
            "subject": _r(patient),
            "effectiveDateTime": when,
            "issued": "2026-11-18T15:20:00+05:30",
            "performer": [_r(org)],
            "resultsInterpreter": [_r(author)],
            "result": [_r(r) for r in results],
            "conclusion": "TSH within limits on levothyroxine 50 mcg; haemoglobin mildly low.",
        },
        "DiagnosticReportLab",
    )
    comp = _composition(
        doc,
        concept(SNOMED, "721981007", "Diagnostic studies report"),
        "Diagnostic Report - Lab",
        patient,
        author,
        org,
        [_section("Lab report", "118246004", "Laboratory test finding", [report])],
    )
    return doc.bundle(comp)


def discharge_summary() -> Resource:
    person, site = _PEOPLE["imran"], facility("org-jpch")
    doctor = _staff("org-jpch", "medicine")
    doc = Document("discharge-summary-imran", "DischargeSummaryRecord", "2026-11-12T13:00:00+05:30")
    patient = _patient(doc, person, site)
    author = _practitioner(doc, doctor)
    org = _organization(doc, site)
    enc = _encounter(
        doc, patient, org, "IMP", "2026-11-08T23:40:00+05:30", "2026-11-12T12:30:00+05:30"
    )
    complaint = _condition(doc, "complaint", patient, "J18.9", "resolved")
    history = _condition(doc, "history", patient, "E11.9", "active")
    when = "2026-11-09T07:30:00+05:30"
    wbc = _lab_observation(doc, "wbc", patient, clinical.WBC, 14.9, when, author)
    glucose = _lab_observation(doc, "fbs", patient, clinical.FASTING_GLUCOSE, 162, when, author)
    meds = [
        _med_request(doc, key, patient, author, key, "2026-11-12", 5)
        for key in ("amoxicillin", "paracetamol")
    ]
    plan = doc.add(
        "care-plan",
        {
            "resourceType": "CarePlan",
            "status": "active",
            "intent": "plan",
            "title": "After discharge",
            "description": "Finish 5 days of antibiotics; sugar check at AAM Seelampur in a week.",
            "subject": _r(patient),
        },
        "CarePlan",
    )
    comp = _composition(
        doc,
        concept(SNOMED, "373942005", "Discharge summary"),
        "Discharge Summary",
        patient,
        author,
        org,
        [
            _section("Chief complaints", "422843007", "Chief complaint section", [complaint]),
            _section("Medical history", "371529009", "History and physical report", [history]),
            _section("Investigations", "721981007", "Diagnostic studies report", [wbc, glucose]),
            _section("Medications", "1003606003", "Medication history section", meds),
            _section("Care plan", "734163000", "Care plan", [plan]),
        ],
        enc,
    )
    return doc.bundle(comp)


def immunization_record() -> Resource:
    person, site = _PEOPLE["aarav"], facility("org-aam-modeltown")
    doctor = _staff("org-aam-modeltown", "mo")
    doc = Document("immunization-aarav", "ImmunizationRecord", "2026-11-16T11:00:00+05:30")
    patient = _patient(doc, person, site)
    author = _practitioner(doc, doctor)
    org = _organization(doc, site)
    doses = [
        doc.add(
            f"dose-{key}",
            {
                "resourceType": "Immunization",
                "status": "completed",
                "vaccineCode": clinical.vaccine(key),
                "patient": _r(patient),
                "occurrenceDateTime": "2026-11-16T10:40:00+05:30",
                "primarySource": True,
                "lotNumber": lot,
                "performer": [{"actor": _r(author)}],
                "protocolApplied": [
                    {"series": "Universal Immunization Programme", "doseNumberPositiveInt": 2}
                ],
            },
            "Immunization",
        )
        for key, lot in (("mr", "MR2611A07"),)
    ]
    comp = _composition(
        doc,
        concept(SNOMED, "41000179103", "Immunization record"),
        "Immunization record",
        patient,
        author,
        org,
        [_section("Immunization record", "41000179103", "Immunization record", doses)],
    )
    return doc.bundle(comp)


def _vital(
    doc: Document,
    key: str,
    patient: str,
    loinc: str,
    display: str,
    value: float,
    unit: str,
    when: str,
    category: str,
    profile: str,
) -> str:
    return doc.add(
        key,
        {
            "resourceType": "Observation",
            "status": "final",
            "category": [
                concept(
                    "http://terminology.hl7.org/CodeSystem/observation-category",
                    category,
                    category.replace("-", " ").capitalize(),
                )
            ],
            "code": concept(LOINC, loinc, display),
            "subject": _r(patient),
            "effectiveDateTime": when,
            "performer": [_r(patient)],
            "valueQuantity": quantity(value, unit),
        },
        profile,
    )


def wellness_record() -> Resource:
    person, site = _PEOPLE["deepak"], facility("org-aam-rkpuram")
    doc = Document("wellness-deepak", "WellnessRecord", "2026-11-22T08:15:00+05:30")
    patient = _patient(doc, person, site)
    org = _organization(doc, site)
    when = "2026-11-22T07:50:00+05:30"
    bp = doc.add(
        "bp",
        {
            "resourceType": "Observation",
            "status": "final",
            "category": [
                concept(
                    "http://terminology.hl7.org/CodeSystem/observation-category",
                    "vital-signs",
                    "Vital Signs",
                )
            ],
            "code": concept(LOINC, "85354-9", "Blood pressure panel with all children optional"),
            "subject": _r(patient),
            "effectiveDateTime": when,
            "performer": [_r(patient)],
            "component": [
                {
                    "code": concept(LOINC, "8480-6", "Systolic blood pressure"),
                    "valueQuantity": quantity(124, "mm[Hg]"),
                },
                {
                    "code": concept(LOINC, "8462-4", "Diastolic blood pressure"),
                    "valueQuantity": quantity(82, "mm[Hg]"),
                },
            ],
        },
        "ObservationVitalSigns",
    )
    pulse = _vital(
        doc,
        "pulse",
        patient,
        "8867-4",
        "Heart rate",
        74,
        "/min",
        when,
        "vital-signs",
        "ObservationVitalSigns",
    )
    weight = _vital(
        doc,
        "weight",
        patient,
        "29463-7",
        "Body weight",
        71.5,
        "kg",
        when,
        "vital-signs",
        "ObservationBodyMeasurement",
    )
    height = _vital(
        doc,
        "height",
        patient,
        "8302-2",
        "Body height",
        172,
        "cm",
        when,
        "vital-signs",
        "ObservationBodyMeasurement",
    )
    bmi = _vital(
        doc,
        "bmi",
        patient,
        "39156-5",
        "Body mass index (BMI) [Ratio]",
        24.2,
        "kg/m2",
        when,
        "vital-signs",
        "ObservationBodyMeasurement",
    )
    steps = _vital(
        doc,
        "steps",
        patient,
        "41950-7",
        "Number of steps in 24 hour Measured",
        8450,
        "/(24.h)",
        when,
        "activity",
        "ObservationPhysicalActivity",
    )
    comp = _composition(
        doc,
        {"text": "Wellness Record"},
        "Wellness Record",
        patient,
        patient,
        org,
        [
            {"title": "Vital Signs", "entry": [_r(bp), _r(pulse)]},
            {"title": "Body Measurement", "entry": [_r(weight), _r(height), _r(bmi)]},
            {"title": "Physical Activity", "entry": [_r(steps)]},
        ],
    )
    return doc.bundle(comp)


# a one-page PDF saying "Thyroid profile, scanned copy" (written here, not a real report)
_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]/Contents 4 0 R"
    b"/Resources<</Font<</F1 5 0 R>>>>>>endobj\n"
    b"4 0 obj<</Length 58>>stream\nBT /F1 18 Tf 72 760 Td (Thyroid profile, scanned copy) Tj ET\n"
    b"endstream endobj\n5 0 obj<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


def health_document() -> Resource:
    person, site = _PEOPLE["kavita"], facility("org-mmmh")
    doctor = _staff("org-mmmh", "medicine")
    doc = Document("health-document-kavita", "HealthDocumentRecord", "2026-11-19T12:00:00+05:30")
    patient = _patient(doc, person, site)
    author = _practitioner(doc, doctor)
    org = _organization(doc, site)
    reference = doc.add(
        "scan",
        {
            "resourceType": "DocumentReference",
            "status": "current",
            "docStatus": "final",
            "type": concept(SNOMED, "4241000179101", "Laboratory report"),
            "subject": _r(patient),
            "date": "2026-11-19T11:50:00+05:30",
            "author": [_r(author)],
            "content": [
                {
                    "attachment": {
                        "contentType": "application/pdf",
                        "language": "en-IN",
                        "data": base64.b64encode(_PDF).decode("ascii"),
                        "title": "Thyroid profile (scanned), private lab, 2024",
                        "creation": "2024-03-02",
                    }
                }
            ],
        },
        "DocumentReference",
    )
    comp = _composition(
        doc,
        concept(SNOMED, "419891008", "Record artifact"),
        "Health Document",
        patient,
        author,
        org,
        [_section("Health document", "419891008", "Record artifact", [reference])],
    )
    return doc.bundle(comp)


def invoice_record() -> Resource:
    person, site = _PEOPLE["ramesh"], facility("org-jak-rohini")
    pharmacist = _staff("org-jak-rohini", "pharmacist")
    doc = Document("invoice-ramesh", "InvoiceRecord", "2026-11-17T11:30:00+05:30")
    patient = _patient(doc, person, site)
    author = _practitioner(doc, pharmacist)
    org = _organization(doc, site)
    lines = []
    for key in ("metformin", "glimepiride", "amlodipine", "atorvastatin"):
        med = clinical.MEDICINES[key]
        amount = Decimal(med.per_day * 30)
        mrp = clinical.mrp(med)
        charge_uid = doc.uid(f"charge-{key}")
        lines.append(
            billing.Line(
                charge_uid,
                f"MED-{key.upper()}",
                med.name,
                amount,
                med.unit_price,
                clinical.GST_RATE_MEDICINES,
                mrp,
            )
        )
    charges = []
    for line in lines:
        charges.append(
            doc.add(
                f"charge-{line.code.removeprefix('MED-').lower()}",
                {
                    "resourceType": "ChargeItem",
                    "status": "billed",
                    "code": {"text": line.text},
                    "subject": _r(patient),
                    "quantity": {"value": float(line.quantity)},
                    "priceOverride": billing.rupees(line.gross),
                    "performingOrganization": _r(org),
                },
                "ChargeItem",
            )
        )
    invoice = billing.invoice(
        "x",
        "JAKROH/2611/00417",
        ("01", "Pharmacy"),
        lines,
        "x",
        "x",
        "x",
        "2026-11-17T11:25:00+05:30",
    )
    invoice = {k: v for k, v in invoice.items() if k not in ("id", "account", "resourceType")}
    invoice["identifier"] = [{"system": f"{HFR}/{site.hfr}/invoice", "value": "JAKROH/2611/00417"}]
    invoice["subject"] = invoice["recipient"] = _r(patient)
    invoice["issuer"] = _r(org)
    invoice["participant"] = [{"actor": _r(author)}]
    for item, charge in zip(invoice["lineItem"], charges, strict=True):
        item["chargeItemReference"] = _r(charge)
    inv = doc.add("invoice", {"resourceType": "Invoice", **invoice}, "Invoice")
    comp = _composition(
        doc,
        {"text": "Invoice Record"},
        "Invoice",
        patient,
        author,
        org,
        [{"title": "Invoice", "entry": [{"reference": inv, "type": "Invoice"}]}],
    )
    return doc.bundle(comp)


DOCUMENTS: dict[str, Callable[[], Resource]] = {
    "OPConsultRecord.json": op_consult,
    "PrescriptionRecord.json": prescription,
    "DiagnosticReportRecord.json": diagnostic_report,
    "DischargeSummaryRecord.json": discharge_summary,
    "ImmunizationRecord.json": immunization_record,
    "WellnessRecord.json": wellness_record,
    "HealthDocumentRecord.json": health_document,
    "InvoiceRecord.json": invoice_record,
}


def document_files() -> dict[str, bytes]:
    return {name: output.document_bytes(build()) for name, build in DOCUMENTS.items()}
