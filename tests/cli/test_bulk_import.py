"""`fhir-server import`: Bundles and NDJSON files through the POST /fhir path."""

from __future__ import annotations

import bz2
import gzip
from pathlib import Path
from typing import Any

import orjson
from typer.testing import CliRunner

from fhir_server.bulk_import import discover
from fhir_server.cli import app
from fhir_server.parallel_import import AUTO_PARALLEL_FROM_FILES, workers_for
from fhir_server.storage.sqlite import SQLiteStore
from tests.api.fixtures import encounter, patient

HPR = "https://doctor.ndhm.gov.in"
runner = CliRunner()


def _practitioner(number: str) -> dict[str, Any]:
    return {
        "resourceType": "Practitioner",
        "identifier": [{"system": HPR, "value": number}],
        "name": [{"family": "Rao"}],
    }


def _information_batch() -> dict[str, Any]:
    """Like Synthea's practitionerInformation: conditional creates, loaded first."""
    entries = [
        {
            "resource": _practitioner(number),
            "request": {
                "method": "POST",
                "url": "Practitioner",
                "ifNoneExist": f"identifier={HPR}|{number}",
            },
        }
        for number in ("71-0001", "71-0002")
    ]
    return {"resourceType": "Bundle", "type": "batch", "entry": entries}


def _patient_transaction(family: str, valid: bool = True) -> dict[str, Any]:
    """Like a Synthea patient bundle: urn:uuid fullUrls and a conditional reference."""
    visit = encounter("ignored")
    visit["subject"] = {"reference": f"urn:uuid:{family}-p"}
    visit["participant"] = [{"individual": {"reference": f"Practitioner?identifier={HPR}|71-0001"}}]
    person = patient(family=family) if valid else patient(family=family, birthDate="someday")
    entries = [
        {
            "fullUrl": f"urn:uuid:{family}-p",
            "resource": person,
            "request": {"method": "POST", "url": "Patient"},
        },
        {
            "fullUrl": f"urn:uuid:{family}-e",
            "resource": visit,
            "request": {"method": "POST", "url": "Encounter"},
        },
    ]
    return {"resourceType": "Bundle", "type": "transaction", "entry": entries}


def _write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.name.endswith(".gz"):
        data = gzip.compress(data)
    elif path.name.endswith(".bz2"):
        data = bz2.compress(data)
    path.write_bytes(data)
    return path


def _import(tmp_path: Path, *args: str) -> Any:
    store = f"sqlite:///{tmp_path / 'fhir.db'}"
    return runner.invoke(app, ["import", *args, "--store", store])


def _counts(tmp_path: Path) -> dict[str, int]:
    store = SQLiteStore(str(tmp_path / "fhir.db"))
    try:
        counts: dict[str, int] = {}
        for record in store.iter_current():
            counts[record.type] = counts.get(record.type, 0) + 1
        return counts
    finally:
        store.close()


def test_imports_bundles_and_ndjson_information_first(tmp_path: Path) -> None:
    data = tmp_path / "in"
    # named to sort before the information bundle: the 0- rule must still load it first
    _write(data / "a-patient.json.gz", orjson.dumps(_patient_transaction("Sharma")))
    _write(data / "nested" / "b-patient.json.bz2", orjson.dumps(_patient_transaction("Iyer")))
    _write(data / "0-practitionerInformation.json", orjson.dumps(_information_batch()))
    lines = [
        patient(family="Khan", id="pk1"),
        patient(family="Das"),
        patient(family="Roy", id="pr"),
    ]
    _write(data / "patients.ndjson", b"\n".join(orjson.dumps(r) for r in lines) + b"\n")

    result = _import(tmp_path, str(data))

    assert result.exit_code == 0, result.output
    assert "9 resources" in result.output
    assert _counts(tmp_path) == {"Practitioner": 2, "Patient": 5, "Encounter": 2}
    # loading again: the information batch matches, NDJSON updates by id change nothing
    again = _import(
        tmp_path, str(data / "0-practitionerInformation.json"), str(data / "patients.ndjson")
    )
    assert again.exit_code == 0, again.output
    assert _counts(tmp_path)["Practitioner"] == 2
    assert _counts(tmp_path)["Patient"] == 6  # only the line without an id is created again


def test_discover_orders_information_bundles_first(tmp_path: Path) -> None:
    for name in ("b.json", "a.ndjson", "0-hospital.json", "hospitalInformation1.json.bz2"):
        _write(tmp_path / name, b"{}")
    _write(tmp_path / "notes.txt", b"skipped")
    names = [p.name for p in discover([tmp_path])]
    assert names == ["0-hospital.json", "hospitalInformation1.json.bz2", "a.ndjson", "b.json"]


def test_a_failing_bundle_stops_the_import_with_a_non_zero_status(tmp_path: Path) -> None:
    data = tmp_path / "in"
    _write(data / "0-practitionerInformation.json", orjson.dumps(_information_batch()))
    _write(data / "a.json", orjson.dumps(_patient_transaction("Sharma", valid=False)))
    _write(data / "b.json", orjson.dumps(_patient_transaction("Iyer")))

    result = _import(tmp_path, str(data))

    assert result.exit_code == 1
    assert "a.json" in result.output and "Bundle.entry[0]" in result.output
    assert "--continue-on-error" in result.output
    # the failing transaction wrote nothing, and b.json was not reached
    assert _counts(tmp_path) == {"Practitioner": 2}


def test_continue_on_error_reports_failures_and_loads_the_rest(tmp_path: Path) -> None:
    data = tmp_path / "in"
    _write(data / "0-practitionerInformation.json", orjson.dumps(_information_batch()))
    _write(data / "a.json", orjson.dumps(_patient_transaction("Sharma", valid=False)))
    _write(data / "b.json", orjson.dumps(_patient_transaction("Iyer")))
    good, bad = patient(family="Khan"), patient(family="Das", gender=7)
    _write(data / "c.ndjson", orjson.dumps(good) + b"\n" + orjson.dumps(bad) + b"\nnot json\n")

    result = _import(tmp_path, str(data), "--continue-on-error")

    assert result.exit_code == 1
    assert "a.json" in result.output
    assert "c.ndjson:2" in result.output and "c.ndjson:3" in result.output
    assert _counts(tmp_path) == {"Practitioner": 2, "Patient": 2, "Encounter": 1}


def test_several_worker_processes_load_the_files_after_the_information_bundles(
    tmp_path: Path,
) -> None:
    data = tmp_path / "in"
    _write(data / "0-practitionerInformation.json", orjson.dumps(_information_batch()))
    families = ("Sharma", "Iyer", "Khan", "Das", "Roy")
    for family in families:
        _write(data / f"{family}.json.bz2", orjson.dumps(_patient_transaction(family)))
    _write(data / "bad.json", orjson.dumps(_patient_transaction("Nair", valid=False)))

    result = _import(tmp_path, str(data), "--workers", "2", "--continue-on-error")

    assert result.exit_code == 1, result.output
    assert "bad.json" in result.output and "Bundle.entry[0]" in result.output
    assert "7 of 7" in result.output  # every file was handled
    assert _counts(tmp_path) == {"Practitioner": 2, "Patient": 5, "Encounter": 5}
    # each patient bundle's conditional reference found the information bundle's doctor
    store = SQLiteStore(str(tmp_path / "fhir.db"))
    try:
        doctors = {r.id for r in store.iter_current("Practitioner")}
        for record in store.iter_current("Encounter"):
            reference = orjson.loads(record.body)["participant"][0]["individual"]["reference"]
            assert reference.removeprefix("Practitioner/") in doctors
    finally:
        store.close()


def test_workers_default_to_one_for_a_small_import() -> None:
    assert workers_for(None, 3, cpus=8) == 1
    assert workers_for(None, AUTO_PARALLEL_FROM_FILES, cpus=8) == 8
    assert workers_for(2, 3, cpus=8) == 2
