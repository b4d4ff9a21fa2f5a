"""Lab test: the doctor orders it (ServiceRequest, LOINC), the patient books sample
collection (Appointment on a lab Slot), the lab collects a Specimen and reports
Observations + a DiagnosticReport, and the results show in the patient's record."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.workflows.network import clinic, put

LOINC = "http://loinc.org"
HBA1C = {"system": LOINC, "code": "4548-4", "display": "Hemoglobin A1c/Hemoglobin.total in Blood"}
GLUCOSE = {"system": LOINC, "code": "1558-6", "display": "Fasting glucose [Mass/volume] in Serum"}


def _lab(client: TestClient) -> None:
    """Asha, Dr Meera, and a hospital lab taking blood samples from 08:00."""
    clinic(client, slots=0)
    put(
        client,
        {
            "resourceType": "HealthcareService",
            "id": "hs-lab",
            "name": "Lab test and sample collection",
            "providedBy": {"reference": "Organization/aam-dwarka"},
        },
    )
    put(
        client,
        {
            "resourceType": "Schedule",
            "id": "sched-lab",
            "actor": [{"reference": "HealthcareService/hs-lab"}],
        },
    )
    for slot_id, start, end in (("lab-0800", "08:00", "08:30"), ("lab-0830", "08:30", "09:00")):
        put(
            client,
            {
                "resourceType": "Slot",
                "id": slot_id,
                "schedule": {"reference": "Schedule/sched-lab"},
                "status": "free",
                "start": f"2026-12-02T{start}:00+05:30",
                "end": f"2026-12-02T{end}:00+05:30",
            },
        )


def _created(client: TestClient, resource: dict[str, Any]) -> dict[str, Any]:
    response = client.post(f"/fhir/{resource['resourceType']}", json=resource)
    assert response.status_code == 201, response.text
    return response.json()


def _order_test(client: TestClient) -> str:
    order = _created(
        client,
        {
            "resourceType": "ServiceRequest",
            "status": "active",
            "intent": "order",
            "category": [{"coding": [{"system": "http://snomed.info/sct", "code": "108252007"}]}],
            "code": {"coding": [HBA1C]},
            "subject": {"reference": "Patient/asha"},
            "requester": {"reference": "Practitioner/meera"},
            "performer": [{"reference": "HealthcareService/hs-lab"}],
        },
    )
    return f"ServiceRequest/{order['id']}"


def _book_sample_collection(client: TestClient, order: str) -> str:
    free = client.get(
        "/fhir/Slot?schedule.actor=HealthcareService/hs-lab&status=free&start=ge2026-12-02"
        "&_sort=start"
    ).json()
    slot = free["entry"][0]["resource"]
    appointment = _created(
        client,
        {
            "resourceType": "Appointment",
            "status": "booked",
            "basedOn": [{"reference": order}],
            "slot": [{"reference": f"Slot/{slot['id']}"}],
            "start": slot["start"],
            "end": slot["end"],
            "participant": [
                {"actor": {"reference": "Patient/asha"}, "status": "accepted"},
                {"actor": {"reference": "HealthcareService/hs-lab"}, "status": "accepted"},
            ],
        },
    )
    return f"Appointment/{appointment['id']}"


def _collect_specimen(client: TestClient, order: str) -> str:
    specimen = _created(
        client,
        {
            "resourceType": "Specimen",
            "status": "available",
            "type": {"coding": [{"system": "http://snomed.info/sct", "code": "119297000"}]},
            "subject": {"reference": "Patient/asha"},
            "request": [{"reference": order}],
            "collection": {"collectedDateTime": "2026-12-02T08:10:00+05:30"},
        },
    )
    return f"Specimen/{specimen['id']}"


def _observation(
    full_url: str, code: dict, value: float, unit: str, order: str, specimen: str
) -> dict[str, Any]:
    return {
        "fullUrl": full_url,
        "resource": {
            "resourceType": "Observation",
            "status": "final",
            "basedOn": [{"reference": order}],
            "code": {"coding": [code]},
            "subject": {"reference": "Patient/asha"},
            "specimen": {"reference": specimen},
            "effectiveDateTime": "2026-12-02T08:10:00+05:30",
            "valueQuantity": {"value": value, "unit": unit},
        },
        "request": {"method": "POST", "url": "Observation"},
    }


def _report_results(client: TestClient, order: str, specimen: str) -> dict[str, Any]:
    """The lab system posts the results and the report in one transaction."""
    hba1c = "urn:uuid:6f1c1e0a-0000-4000-8000-000000000001"
    glucose = "urn:uuid:6f1c1e0a-0000-4000-8000-000000000002"
    report = {
        "resourceType": "DiagnosticReport",
        "status": "final",
        "basedOn": [{"reference": order}],
        "code": {"coding": [HBA1C]},
        "subject": {"reference": "Patient/asha"},
        "effectiveDateTime": "2026-12-02T08:10:00+05:30",
        "issued": "2026-12-02T16:00:00+05:30",
        "specimen": [{"reference": specimen}],
        "result": [{"reference": hba1c}, {"reference": glucose}],  # forward references
        "conclusion": "HbA1c above target",
    }
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {"resource": report, "request": {"method": "POST", "url": "DiagnosticReport"}},
            _observation(hba1c, HBA1C, 7.4, "%", order, specimen),
            _observation(glucose, GLUCOSE, 128, "mg/dL", order, specimen),
        ],
    }
    response = client.post("/fhir", json=bundle)
    assert response.status_code == 200, response.text
    statuses = [e["response"]["status"] for e in response.json()["entry"]]
    assert all(s.startswith("201") for s in statuses), statuses
    return response.json()


def _complete(client: TestClient, order: str) -> None:
    current = client.get(f"/fhir/{order}").json()
    response = client.put(f"/fhir/{order}", json={**current, "status": "completed"})
    assert response.status_code == 200, response.text


def test_lab_test_from_order_to_report(client: TestClient) -> None:
    _lab(client)
    order = _order_test(client)
    _book_sample_collection(client, order)
    specimen = _collect_specimen(client, order)
    _report_results(client, order, specimen)
    _complete(client, order)

    # the lab's first Slot is taken; the next patient is offered the 08:30 one
    assert client.get("/fhir/Slot/lab-0800").json()["status"] == "busy"
    free = client.get("/fhir/Slot?schedule.actor=HealthcareService/hs-lab&status=free").json()
    assert [e["resource"]["id"] for e in free["entry"]] == ["lab-0830"]
    assert client.get(f"/fhir/Specimen?request={order}").json()["total"] == 1
    assert client.get(f"/fhir/Appointment?based-on={order}").json()["total"] == 1


def test_report_is_found_by_its_order_with_the_results(client: TestClient) -> None:
    _lab(client)
    order = _order_test(client)
    specimen = _collect_specimen(client, order)
    _report_results(client, order, specimen)

    found = client.get(
        f"/fhir/DiagnosticReport?based-on={order}&_include=DiagnosticReport:result"
    ).json()
    modes = {e["resource"]["resourceType"]: e["search"]["mode"] for e in found["entry"]}
    assert found["total"] == 1
    assert modes == {"DiagnosticReport": "match", "Observation": "include"}
    values = sorted(
        e["resource"]["valueQuantity"]["value"]
        for e in found["entry"]
        if e["resource"]["resourceType"] == "Observation"
    )
    assert values == [7.4, 128]
    report = next(e["resource"] for e in found["entry"] if e["search"]["mode"] == "match")
    assert report["specimen"] == [{"reference": specimen}]


def test_results_are_in_the_patient_record(client: TestClient) -> None:
    _lab(client)
    order = _order_test(client)
    appointment = _book_sample_collection(client, order)
    specimen = _collect_specimen(client, order)
    _report_results(client, order, specimen)

    record = client.get("/fhir/Patient/asha/$everything")
    assert record.status_code == 200, record.text
    kinds: dict[str, int] = {}
    ids = set()
    for e in record.json()["entry"]:
        resource = e["resource"]
        kinds[resource["resourceType"]] = kinds.get(resource["resourceType"], 0) + 1
        ids.add(f"{resource['resourceType']}/{resource['id']}")
    assert {order, appointment, specimen} <= ids
    assert kinds["DiagnosticReport"] == 1
    assert kinds["Observation"] == 2
    lab_results = client.get(
        "/fhir/Patient/asha/$everything?_type=Observation,DiagnosticReport"
    ).json()
    assert lab_results["total"] == 3
