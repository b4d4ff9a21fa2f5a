"""Every request under /fhir leaves an AuditEvent, durable before its response is sent."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from fhir_server.security.audit import CLIENT_SYSTEM
from tests.api.fixtures import observation, patient
from tests.auth_support import Registrar, auth_client
from tests.conftest import ADAPTERS


@pytest.fixture(params=ADAPTERS)
def secured(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TestClient]:
    with auth_client(request.param, tmp_path) as client:
        yield client


def _stored_events(client: TestClient) -> list[dict[str, Any]]:
    """AuditEvents read from the store itself, not through the (audited) API."""
    import orjson

    store = client.app.state.ctx.store
    return [orjson.loads(r.body) for r in store.iter_current("AuditEvent")]


def _client_of(event: dict[str, Any]) -> str | None:
    who = event["agent"][0].get("who") or {}
    return (who.get("identifier") or {}).get("value")


def test_every_request_has_its_audit_event(secured: TestClient) -> None:
    registrar = Registrar(secured)
    client_id, key = registrar.register("system/Patient.cruds system/Observation.rs")
    from tests.auth_support import assertion, token_form

    token = secured.post("/auth/token", data=token_form(assertion(client_id, key))).json()
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    made = secured.post("/fhir/Patient", json=patient(), headers=headers)
    pid = made.json()["id"]
    requests: list[tuple[str, str, dict | None, dict[str, str] | None, int]] = [
        ("GET", f"/fhir/Patient/{pid}", None, headers, 200),
        ("GET", "/fhir/Patient?family=Sharma", None, headers, 200),
        ("PUT", f"/fhir/Patient/{pid}", {**patient(given="Nisha"), "id": pid}, headers, 200),
        ("GET", f"/fhir/Patient/{pid}/_history", None, headers, 200),
        ("POST", "/fhir/Observation", observation(pid), headers, 403),  # out of scope
        ("GET", f"/fhir/Patient/{pid}/$everything", None, headers, 200),
        ("GET", "/fhir/Encounter", None, headers, 403),
        ("GET", "/fhir/Patient", None, None, 401),  # no token at all
        ("GET", "/fhir/Patient", None, {"Authorization": "Bearer nonsense"}, 401),
        ("DELETE", f"/fhir/Patient/{pid}", None, headers, 204),
    ]
    before = len(_stored_events(secured))
    for method, path, body, hdrs, status in requests:
        response = secured.request(method, path, json=body, headers=hdrs or {})
        assert response.status_code == status, (method, path, response.text)
        # durable before the response: the store holds it the moment the response is here
        events = _stored_events(secured)
        assert len(events) == before + 1, (method, path)
        before += 1
        newest = max(events, key=lambda e: (e["recorded"], e["meta"]["lastUpdated"]))
        # a successful write records its audit inside its own transaction (status unknown
        # then); everything else when its status is decided
        written = method in ("POST", "PUT", "DELETE") and status < 400
        result = "committed with its change" if written else str(status)
        assert newest["outcomeDesc"].startswith(f"{method} {path.split('?')[0]} -> {result}")
        assert newest["outcome"] == ("0" if status < 400 else "4")
        assert newest["agent"][0]["network"]["address"] == "testclient"
        if status != 401:
            assert _client_of(newest) == client_id
        if status < 400 and "Patient" in path and "?" not in path:
            patients = [e["what"]["reference"] for e in newest.get("entity", []) if "what" in e]
            assert f"Patient/{pid}" in patients, (method, path, newest.get("entity"))


def test_audit_events_are_searchable_and_append_only(secured: TestClient) -> None:
    registrar = Registrar(secured)
    client_id, key = registrar.register("system/Patient.cruds")
    from tests.auth_support import assertion, token_form

    access = secured.post("/auth/token", data=token_form(assertion(client_id, key))).json()
    headers = {"Authorization": f"Bearer {access['access_token']}"}
    pid = secured.post("/fhir/Patient", json=patient(), headers=headers).json()["id"]
    secured.get(f"/fhir/Patient/{pid}", headers=headers)
    secured.get("/fhir/Observation", headers=headers)  # denied: no Observation scope

    auditor = registrar.headers("system/AuditEvent.cruds")
    by_agent = secured.get(
        f"/fhir/AuditEvent?agent:identifier={CLIENT_SYSTEM}|{client_id}", headers=auditor
    ).json()
    assert by_agent["total"] == 4  # its login (the token request) and three FHIR requests
    kinds = sorted(e["resource"]["type"]["code"] for e in by_agent["entry"])
    assert kinds == ["110114", "rest", "rest", "rest"]
    by_patient = secured.get(
        f"/fhir/AuditEvent?patient=Patient/{pid}&agent:identifier={CLIENT_SYSTEM}|{client_id}",
        headers=auditor,
    ).json()
    assert by_patient["total"] == 2  # the create and the read (the search named no patient)
    failed = secured.get(
        f"/fhir/AuditEvent?agent:identifier={CLIENT_SYSTEM}|{client_id}&outcome=4",
        headers=auditor,
    ).json()
    assert failed["total"] == 1
    dated = secured.get("/fhir/AuditEvent?date=ge2020-01-01&_summary=count", headers=auditor)
    assert dated.json()["total"] >= 3

    event = next(
        e["resource"] for e in by_agent["entry"] if e["resource"]["type"]["code"] == "rest"
    )
    url = f"/fhir/AuditEvent/{event['id']}"
    changed = {**event, "outcomeDesc": "nothing happened"}
    assert secured.put(url, json=changed, headers=auditor).status_code == 405
    assert secured.delete(url, headers=auditor).status_code == 405
    patch = [{"op": "replace", "path": "/outcomeDesc", "value": "nothing happened"}]
    patched = secured.patch(
        url, json=patch, headers={**auditor, "Content-Type": "application/json-patch+json"}
    )
    assert patched.status_code == 405
    stored = secured.get(url, headers=auditor).json()
    assert stored["meta"]["versionId"] == "1"


def test_break_the_glass_is_audited(secured: TestClient) -> None:
    registrar = Registrar(secured)
    writer = registrar.headers("system/*.cruds", facility="HFR-A")
    pid = secured.post("/fhir/Patient", json=patient(), headers=writer).json()["id"]
    glass = registrar.headers("system/*.rs", facility="HFR-B", break_glass=True)
    response = secured.get(f"/fhir/Patient/{pid}", headers={**glass, "X-Purpose-Of-Use": "BTG"})
    assert response.status_code == 200
    newest = max(_stored_events(secured), key=lambda e: e["meta"]["lastUpdated"])
    assert newest["purposeOfEvent"][0]["coding"][0]["code"] == "BTG"
    facility_agent = newest["agent"][1]["who"]["identifier"]["value"]
    assert facility_agent == "HFR-B"


def test_no_response_leaves_without_its_audit(
    secured: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    registrar = Registrar(secured)
    headers = registrar.headers("system/*.cruds")
    writer = secured.app.state.ctx.audit_writer

    def broken(batch: list) -> None:
        for _, done in batch:
            done.set_exception(RuntimeError("disk full"))

    monkeypatch.setattr(writer, "_write", broken)
    response = secured.get("/fhir/Patient", headers=headers)
    assert response.status_code == 503
    assert "audit record could not be written" in response.text
    assert "entry" not in response.json()  # none of the data went out


def test_a_rolled_back_write_leaves_only_its_failure_audit(tmp_path: Path) -> None:
    # SQLite: the audit written inside the transaction rolls back with it
    with auth_client("sqlite", tmp_path) as client:
        headers = Registrar(client).headers("system/*.cruds")
        before = len(_stored_events(client))
        bundle = {
            "resourceType": "Bundle",
            "type": "transaction",
            "entry": [
                {"resource": patient(), "request": {"method": "POST", "url": "Patient"}},
                {
                    "resource": {"resourceType": "Patient", "gender": "not-a-gender"},
                    "request": {"method": "POST", "url": "Patient"},
                },
            ],
        }
        response = client.post("/fhir", json=bundle, headers=headers)
        assert response.status_code in (400, 422)
        events = _stored_events(client)[before:]
        assert len(events) == 1
        assert events[0]["outcome"] == "4"
        assert f"-> {response.status_code}" in events[0]["outcomeDesc"]


def test_token_requests_are_audited_as_logins(secured: TestClient) -> None:
    registrar = Registrar(secured)
    client_id, key = registrar.register("system/*.rs")
    from tests.auth_support import assertion, new_key, token_form

    before = len(_stored_events(secured))
    granted = secured.post("/auth/token", data=token_form(assertion(client_id, key)))
    refused = secured.post("/auth/token", data=token_form(assertion(client_id, new_key())))
    assert (granted.status_code, refused.status_code) == (200, 401)
    logins = _stored_events(secured)[before:]
    assert [e["subtype"][0]["code"] for e in logins] == ["110122", "110122"]
    assert [e["outcome"] for e in logins] == ["0", "4"]
    assert all(_client_of(e) == client_id for e in logins)
    assert "signature" in logins[1]["outcomeDesc"]
    assert granted.json()["access_token"] not in str(logins)  # tokens are never recorded
