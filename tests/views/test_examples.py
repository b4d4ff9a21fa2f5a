"""The example views in views/ on the seed network, loaded by the code `fhir-server seed` runs.

Row counts are checked against FHIR search totals, and the SQL the docs show (HbA1c per
patient per facility, encounters per facility per day, medicines per Kendra) is run on
the rows in an in-memory SQLite database.
"""

from __future__ import annotations

import csv
import io
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from fhir_server.seeding import VIEWS_DIR, load_seed_folder
from tests.api.conftest import make_client
from tests.seed.support import SEED_DIR, seed_resources

VIEW_TYPES = ("Observation", "Encounter", "MedicationDispense")


def _view_types_only(folder: Path) -> Path:
    """The seed bundles cut down to the viewed types (mongomock loads the whole seed in
    about 90 s; its HTTP behaviour is covered in test_run_api)."""
    folder.mkdir()
    for path in sorted(SEED_DIR.glob("*.json")):
        bundle = orjson.loads(path.read_bytes())
        bundle["entry"] = [
            e for e in bundle["entry"] if e["resource"]["resourceType"] in VIEW_TYPES
        ]
        (folder / path.name).write_bytes(orjson.dumps(bundle))
    return folder


@pytest.fixture(scope="module", params=["sqlite", "mongomock"])
def seeded(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestClient]:
    tmp = tmp_path_factory.mktemp(request.param)
    if request.param == "sqlite":
        client, folder = make_client("sqlite", tmp), SEED_DIR
    else:
        client = make_client("mongomock", tmp, referential_integrity="off")
        folder = _view_types_only(tmp / "seed")
    with client:
        summary = load_seed_folder(client.app.state.ctx, folder)
        assert summary.views == len(list(VIEWS_DIR.glob("*.json"))) == 3
        yield client


def _rows(client: TestClient, view_id: str) -> list[dict[str, Any]]:
    response = client.get(f"/fhir/ViewDefinition/{view_id}/$run?_format=csv")
    assert response.status_code == 200, response.text
    return list(csv.DictReader(io.StringIO(response.text)))


def _total(client: TestClient, query: str) -> int:
    response = client.get(f"/fhir/{query}&_summary=count")
    assert response.status_code == 200, response.text
    return response.json()["total"]


def _table(db: sqlite3.Connection, name: str, rows: list[dict[str, Any]]) -> None:
    names = list(rows[0])
    db.execute(f"CREATE TABLE {name} ({', '.join(names)})")
    db.executemany(
        f"INSERT INTO {name} VALUES ({', '.join('?' * len(names))})",
        [[r[n] or None for n in names] for r in rows],
    )


def test_seed_loads_the_example_views(seeded: TestClient) -> None:
    bundle = seeded.get("/fhir/ViewDefinition?status=active&_count=50").json()
    assert sorted(e["resource"]["name"] for e in bundle["entry"]) == [
        "encounters",
        "lab_results",
        "medicines_dispensed",
    ]


def test_lab_results_has_one_row_per_laboratory_observation(seeded: TestClient) -> None:
    rows = _rows(seeded, "lab-results")
    assert len(rows) == _total(seeded, "Observation?category=laboratory") == 67
    hba1c = [r for r in rows if r["loinc_code"] == "4548-4"]
    assert len(hba1c) == _total(seeded, "Observation?code=http://loinc.org|4548-4") == 4
    first = next(r for r in hba1c if r["id"] == "obs-aam-asha-hba1c")
    assert first == {
        **first,
        "patient_id": "pat-aam-asha",
        "performer_organization_id": "org-aam-dwarka",
        "value": "7.2",
        "unit": "%",
        "effective_date": "2026-10-05",
    }


def test_hba1c_per_patient_per_facility_by_sql(seeded: TestClient) -> None:
    db = sqlite3.connect(":memory:")
    _table(db, "lab_results", _rows(seeded, "lab-results"))
    _table(db, "encounters", _rows(seeded, "encounters-per-facility-day"))
    # the facility: the performing Organization, else the Encounter's serviceProvider
    found = db.execute(
        """SELECT l.patient_id, COALESCE(l.performer_organization_id, e.service_provider_id),
                  COUNT(*)
           FROM lab_results l LEFT JOIN encounters e ON e.id = l.encounter_id
           WHERE l.loinc_code = '4548-4'
           GROUP BY 1, 2 ORDER BY 1, 2"""
    ).fetchall()
    expected: dict[tuple[str, str], int] = {}
    encounters = {r["id"]: r for r in seed_resources() if r["resourceType"] == "Encounter"}
    for obs in seed_resources():
        if obs["resourceType"] != "Observation":
            continue
        if "4548-4" not in [c.get("code") for c in obs["code"].get("coding", [])]:
            continue
        org = next(
            (
                p["reference"]
                for p in obs.get("performer", [])
                if p["reference"].startswith("Organization/")
            ),
            None,
        )
        if org is None:
            org = encounters[obs["encounter"]["reference"].split("/")[1]]["serviceProvider"][
                "reference"
            ]
        key = (obs["subject"]["reference"].split("/")[1], org.split("/")[1])
        expected[key] = expected.get(key, 0) + 1
    assert found == sorted((p, f, n) for (p, f), n in expected.items())
    assert all(facility for _, facility, _ in found)


def test_encounters_per_facility_per_day(seeded: TestClient) -> None:
    rows = _rows(seeded, "encounters-per-facility-day")
    assert len(rows) == _total(seeded, "Encounter?status:not=entered-in-error") == 35
    db = sqlite3.connect(":memory:")
    _table(db, "encounters", rows)
    counts = db.execute(
        "SELECT service_provider_id, start_date, COUNT(*) FROM encounters GROUP BY 1, 2"
    ).fetchall()
    assert sum(n for _, _, n in counts) == 35
    for provider, day, n in counts[:5]:
        query = f"Encounter?service-provider=Organization/{provider}&date=eq{day}"
        assert _total(seeded, query) == n, (provider, day)


def test_medicines_dispensed_per_kendra(seeded: TestClient) -> None:
    rows = _rows(seeded, "medicines-dispensed")
    assert len(rows) == _total(seeded, "MedicationDispense?status=completed") == 38
    assert all(r["location_id"].startswith("loc-jak-") for r in rows)
    db = sqlite3.connect(":memory:")
    _table(db, "dispensed", rows)
    per_kendra = dict(
        db.execute("SELECT location_id, SUM(quantity) FROM dispensed GROUP BY 1").fetchall()
    )
    expected: dict[str, float] = {}
    for md in seed_resources():
        if md["resourceType"] == "MedicationDispense" and md["status"] == "completed":
            loc = md["location"]["reference"].split("/")[1]
            expected[loc] = expected.get(loc, 0) + md["quantity"]["value"]
    assert per_kendra == expected
