"""ViewDefinition over HTTP on every adapter: store and search it, $run it in each format."""

from __future__ import annotations

import io
from typing import Any

import orjson
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient

VIEW: dict[str, Any] = {
    "resourceType": "ViewDefinition",
    "url": "urn:test:ViewDefinition/glucose",
    "name": "glucose",
    "status": "active",
    "resource": "Observation",
    "select": [
        {
            "column": [
                {"name": "id", "path": "getResourceKey()"},
                {"name": "patient_id", "path": "subject.getReferenceKey(Patient)"},
                {"name": "value", "path": "value.ofType(Quantity).value", "type": "decimal"},
                {"name": "note", "path": "note.text"},
                {"name": "final", "path": "status = 'final'", "type": "boolean"},
            ]
        }
    ],
}


def _put(client: TestClient, resource: dict[str, Any]) -> None:
    response = client.put(f"/fhir/{resource['resourceType']}/{resource['id']}", json=resource)
    assert response.status_code in (200, 201), response.text


def _observation(id_: str, patient: str, value: float, note: str | None = None) -> dict[str, Any]:
    obs: dict[str, Any] = {
        "resourceType": "Observation",
        "id": id_,
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "1558-6"}]},
        "subject": {"reference": f"Patient/{patient}"},
        "valueQuantity": {"value": value, "unit": "mg/dL"},
    }
    if note is not None:
        obs["note"] = [{"text": note}]
    return obs


@pytest.fixture
def data(client: TestClient) -> TestClient:
    for pid in ("p1", "p2"):
        _put(client, {"resourceType": "Patient", "id": pid})
    _put(client, _observation("o1", "p1", 148, 'fasting, "12h"'))
    _put(client, _observation("o2", "p2", 92.5))
    _put(client, {**VIEW, "id": "glucose"})
    return client


def _run(client: TestClient, fmt: str, **params: str) -> Any:
    response = client.get("/fhir/ViewDefinition/glucose/$run", params={"_format": fmt, **params})
    assert response.status_code == 200, response.text
    return response


def test_view_definition_is_stored_read_and_searched(data: TestClient) -> None:
    read = data.get("/fhir/ViewDefinition/glucose")
    assert read.status_code == 200 and read.json()["name"] == "glucose"
    for query in (
        "name=glucose",
        "url=urn:test:ViewDefinition/glucose",
        "status=active",
        "resource=Observation",
    ):
        bundle = data.get(f"/fhir/ViewDefinition?{query}").json()
        assert [e["resource"]["id"] for e in bundle["entry"]] == ["glucose"], query
    assert not data.get("/fhir/ViewDefinition?status=retired").json().get("entry")
    updated = data.put(
        "/fhir/ViewDefinition/glucose", json={**VIEW, "id": "glucose", "status": "retired"}
    )
    assert updated.status_code == 200 and updated.json()["meta"]["versionId"] == "2"


def test_run_csv_quotes_per_rfc_4180(data: TestClient) -> None:
    response = _run(data, "csv")
    assert response.headers["content-type"].startswith("text/csv")
    assert response.text == (
        "id,patient_id,value,note,final\r\n"
        'o1,p1,148,"fasting, ""12h""",true\r\n'
        "o2,p2,92.5,,true\r\n"
    )


def test_run_ndjson_and_json(data: TestClient) -> None:
    ndjson = _run(data, "ndjson")
    assert ndjson.headers["content-type"].startswith("application/x-ndjson")
    lines = [orjson.loads(line) for line in ndjson.content.splitlines()]
    assert lines == [
        {"id": "o1", "patient_id": "p1", "value": 148, "note": 'fasting, "12h"', "final": True},
        {"id": "o2", "patient_id": "p2", "value": 92.5, "note": None, "final": True},
    ]
    assert _run(data, "json").json() == lines


def test_run_parquet_reads_back_with_pyarrow(data: TestClient) -> None:
    response = _run(data, "parquet")
    assert response.headers["content-type"] == "application/vnd.apache.parquet"
    table = pq.read_table(io.BytesIO(response.content))
    assert [str(t) for t in table.schema.types] == ["string", "string", "double", "string", "bool"]
    assert table.to_pylist()[1] == {
        "id": "o2",
        "patient_id": "p2",
        "value": 92.5,
        "note": None,
        "final": True,
    }
    assert table.num_rows == 2


def test_run_filters_patient_since_and_limit(data: TestClient) -> None:
    assert [r["id"] for r in _run(data, "json", patient="Patient/p2").json()] == ["o2"]
    assert len(_run(data, "json", _limit="1").json()) == 1
    assert _run(data, "json", _since="2999-01-01").json() == []
    assert len(_run(data, "json", _since="2000-01-01").json()) == 2


def test_run_inline_view_resource_by_post(data: TestClient) -> None:
    body = {
        "resourceType": "Parameters",
        "parameter": [
            {
                "name": "viewResource",
                "resource": {**VIEW, "select": [{"column": [{"name": "id", "path": "id"}]}]},
            },
            {"name": "_format", "valueCode": "csv"},
            {"name": "patient", "valueReference": {"reference": "Patient/p1"}},
        ],
    }
    response = data.post("/fhir/ViewDefinition/$run", json=body)
    assert response.status_code == 200, response.text
    assert response.text == "id\r\no1\r\n"


def test_run_view_reference_by_id_and_by_url(data: TestClient) -> None:
    for reference in ("ViewDefinition/glucose", "urn:test:ViewDefinition/glucose"):
        body = {
            "resourceType": "Parameters",
            "parameter": [{"name": "viewReference", "valueReference": {"reference": reference}}],
        }
        response = data.post("/fhir/ViewDefinition/$run", json=body)
        assert response.status_code == 200, response.text
        assert [r["id"] for r in response.json()] == ["o1", "o2"]


def test_run_over_inline_resources(client: TestClient) -> None:
    body = {
        "resourceType": "Parameters",
        "parameter": [
            {"name": "viewResource", "resource": VIEW},
            {"name": "resource", "resource": _observation("x1", "p9", 1)},
        ],
    }
    rows = client.post("/fhir/ViewDefinition/$run?_format=ndjson", json=body)
    assert rows.status_code == 200, rows.text
    assert orjson.loads(rows.content)["patient_id"] == "p9"


def test_unknown_view_is_404(client: TestClient) -> None:
    response = client.get("/fhir/ViewDefinition/nope/$run?_format=csv")
    assert response.status_code == 404
    assert "ViewDefinition/nope" in response.json()["issue"][0]["diagnostics"]


def test_invalid_view_definition_is_422_naming_the_element(client: TestClient) -> None:
    bad = {
        **VIEW,
        "select": [{"column": [{"name": "id", "path": "id"}, {"name": "id", "path": "status"}]}],
    }
    for response in (
        client.post("/fhir/ViewDefinition", json=bad),
        client.post(
            "/fhir/ViewDefinition/$run",
            json={
                "resourceType": "Parameters",
                "parameter": [{"name": "viewResource", "resource": bad}],
            },
        ),
    ):
        assert response.status_code == 422, response.text
        issue = response.json()["issue"][0]
        assert issue["expression"] == ["ViewDefinition.select[0].column[1].name"]
        assert "already used" in issue["diagnostics"]
    missing = {k: v for k, v in VIEW.items() if k != "status"}
    response = client.post("/fhir/ViewDefinition", json=missing)
    assert response.status_code == 422
    assert response.json()["issue"][0]["expression"] == ["ViewDefinition.status"]


def test_bad_format_is_400_and_fhir_negotiation_is_unchanged(data: TestClient) -> None:
    response = data.get("/fhir/ViewDefinition/glucose/$run?_format=xml")
    assert response.status_code == 400
    assert "_format" in response.json()["issue"][0]["diagnostics"]
    # elsewhere _format still means a FHIR format
    assert data.get("/fhir/Patient/p1?_format=csv").status_code == 406
    assert data.get("/fhir/Patient/p1?_format=json").status_code == 200


def test_view_over_unknown_resource_type_is_422(client: TestClient) -> None:
    foo = {**VIEW, "resource": "Foo"}
    body = {"resourceType": "Parameters", "parameter": [{"name": "viewResource", "resource": foo}]}
    response = client.post("/fhir/ViewDefinition/$run", json=body)
    assert response.status_code == 422
    assert response.json()["issue"][0]["expression"] == ["ViewDefinition.resource"]


def test_run_without_a_view_is_400(client: TestClient) -> None:
    response = client.post("/fhir/ViewDefinition/$run", json={"resourceType": "Parameters"})
    assert response.status_code == 400


def test_run_is_only_for_view_definitions(client: TestClient) -> None:
    assert client.get("/fhir/Patient/$run").status_code == 400


def test_run_error_on_first_rows_is_422(data: TestClient) -> None:
    view = {**VIEW, "select": [{"column": [{"name": "codes", "path": "code.coding.code | id"}]}]}
    body = {"resourceType": "Parameters", "parameter": [{"name": "viewResource", "resource": view}]}
    response = data.post("/fhir/ViewDefinition/$run", json=body)
    assert response.status_code == 422
    assert "not a collection" in response.json()["issue"][0]["diagnostics"]


def test_view_definition_in_a_transaction_and_run_by_get_reference(client: TestClient) -> None:
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "resource": {**VIEW, "id": "tx"},
                "request": {"method": "PUT", "url": "ViewDefinition/tx"},
            },
            {
                "resource": {"resourceType": "Patient", "id": "p9"},
                "request": {"method": "PUT", "url": "Patient/p9"},
            },
            {
                "resource": _observation("o9", "p9", 5),
                "request": {"method": "PUT", "url": "Observation/o9"},
            },
        ],
    }
    response = client.post("/fhir", json=bundle)
    assert response.status_code == 200, response.text
    rows = client.get(
        "/fhir/ViewDefinition/$run",
        params={"viewReference": "ViewDefinition/tx", "_format": "json"},
    )
    assert rows.status_code == 200, rows.text
    assert [r["id"] for r in rows.json()] == ["o9"]
