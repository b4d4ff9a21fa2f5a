"""Rate and size limits per client, security headers, CORS closed by default."""

from __future__ import annotations

from pathlib import Path

from tests.api.fixtures import patient
from tests.auth_support import Registrar, auth_client


def test_a_client_over_its_rate_gets_429_with_retry_after(tmp_path: Path) -> None:
    with auth_client("sqlite", tmp_path) as client:
        registrar = Registrar(client)
        slow = registrar.headers("system/*.rs", rate_per_minute=6)  # a burst of one
        other = registrar.headers("system/*.rs")
        assert client.get("/fhir/Patient", headers=slow).status_code == 200
        refused = client.get("/fhir/Patient", headers=slow)
        assert refused.status_code == 429
        assert int(refused.headers["Retry-After"]) >= 1
        assert refused.json()["issue"][0]["code"] == "throttled"
        assert client.get("/fhir/Patient", headers=other).status_code == 200  # others unaffected


def test_the_server_wide_rate_applies_to_every_client(tmp_path: Path) -> None:
    with auth_client("sqlite", tmp_path, rate_limit_per_minute=12) as client:
        headers = Registrar(client).headers("system/*.rs")
        statuses = [client.get("/fhir/Patient", headers=headers).status_code for _ in range(3)]
        assert statuses == [200, 200, 429]


def test_a_client_with_a_size_limit_gets_413(tmp_path: Path) -> None:
    with auth_client("sqlite", tmp_path) as client:
        registrar = Registrar(client)
        small = registrar.headers("system/*.cruds", max_body_bytes=300)
        big = patient(family="S" * 400)
        refused = client.post("/fhir/Patient", json=big, headers=small)
        assert refused.status_code == 413
        admin = registrar.headers("system/*.cruds")
        assert client.post("/fhir/Patient", json=big, headers=admin).status_code == 201
        total = client.get("/fhir/Patient?_summary=count", headers=admin).json()["total"]
        assert total == 1


def test_security_headers(tmp_path: Path) -> None:
    with auth_client("sqlite", tmp_path) as client:
        headers = Registrar(client).headers("system/*.rs")
        for response in (
            client.get("/fhir/Patient", headers=headers),
            client.get("/fhir/metadata"),
            client.get("/fhir/Patient"),  # a 401 too
        ):
            assert response.headers["X-Content-Type-Options"] == "nosniff"
            assert response.headers["X-Frame-Options"] == "DENY"
            assert response.headers["Referrer-Policy"] == "no-referrer"
            assert response.headers["Cache-Control"] == "no-store"
        capability = client.get("/fhir/metadata").json()
        security = capability["rest"][0]["security"]
        assert security["service"][0]["coding"][0]["code"] == "SMART-on-FHIR"
        assert security["cors"] is False


def test_cors_is_closed_by_default_and_opens_to_configured_origins(tmp_path: Path) -> None:
    origin = "https://hims.delhi.example"
    preflight = {"Origin": origin, "Access-Control-Request-Method": "GET"}
    with auth_client("sqlite", tmp_path / "closed") as client:
        response = client.options("/fhir/Patient", headers=preflight)
        assert "access-control-allow-origin" not in response.headers
        get = client.get("/fhir/metadata", headers={"Origin": origin})
        assert "access-control-allow-origin" not in get.headers
    with auth_client("sqlite", tmp_path / "open", cors_origins=[origin]) as client:
        response = client.options(
            "/fhir/Patient",
            headers={**preflight, "Access-Control-Request-Headers": "Authorization"},
        )
        assert response.status_code == 200  # a preflight needs no token
        assert response.headers["access-control-allow-origin"] == origin
        get = client.get("/fhir/metadata", headers={"Origin": origin})
        assert get.headers["access-control-allow-origin"] == origin
        assert "ETag" in get.headers.get("access-control-expose-headers", "")
        evil = client.get("/fhir/metadata", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in evil.headers
