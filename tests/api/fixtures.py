"""Small synthetic resources for API tests (never real patient data)."""

from __future__ import annotations

from typing import Any


def patient(family: str = "Sharma", given: str = "Asha", **extra: Any) -> dict[str, Any]:
    return {
        "resourceType": "Patient",
        "identifier": [{"system": "https://healthid.ndhm.gov.in", "value": "22-7225-4829-5255"}],
        "name": [{"family": family, "given": [given]}],
        "gender": "female",
        "birthDate": "1985-04-12",
        **extra,
    }


def encounter(patient_id: str) -> dict[str, Any]:
    return {
        "resourceType": "Encounter",
        "status": "finished",
        "class": {
            "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
            "code": "AMB",
        },
        "subject": {"reference": f"Patient/{patient_id}"},
        "period": {"start": "2026-11-02T09:30:00+05:30", "end": "2026-11-02T09:50:00+05:30"},
    }


def appointment(patient_id: str) -> dict[str, Any]:
    return {
        "resourceType": "Appointment",
        "status": "booked",
        "start": "2026-12-01T10:00:00+05:30",
        "end": "2026-12-01T10:15:00+05:30",
        "participant": [{"actor": {"reference": f"Patient/{patient_id}"}, "status": "accepted"}],
    }


def medication_request(patient_id: str) -> dict[str, Any]:
    return {
        "resourceType": "MedicationRequest",
        "status": "active",
        "intent": "order",
        "medicationCodeableConcept": {"text": "Metformin 500 mg tablet"},
        "subject": {"reference": f"Patient/{patient_id}"},
        "dosageInstruction": [{"text": "1 tablet twice a day after meals"}],
    }


def observation(patient_id: str, value: float = 6.8) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "status": "final",
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                        "code": "laboratory",
                    }
                ]
            }
        ],
        "code": {"coding": [{"system": "http://loinc.org", "code": "4548-4", "display": "HbA1c"}]},
        "subject": {"reference": f"Patient/{patient_id}"},
        "effectiveDateTime": "2026-11-02T10:00:00+05:30",
        "valueQuantity": {
            "value": value,
            "unit": "%",
            "system": "http://unitsofmeasure.org",
            "code": "%",
        },
    }


def claim(patient_id: str) -> dict[str, Any]:
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
        "patient": {"reference": f"Patient/{patient_id}"},
        "created": "2026-11-02",
        "provider": {"display": "Aruna Asaf Ali Government Hospital"},
        "priority": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/processpriority",
                    "code": "normal",
                }
            ]
        },
        "insurance": [{"sequence": 1, "focal": True, "coverage": {"display": "AB-PMJAY"}}],
    }
