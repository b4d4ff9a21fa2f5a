"""`fhir-server export`: the same NDJSON files and manifest, straight from a store."""

from __future__ import annotations

from pathlib import Path

import orjson
from typer.testing import CliRunner

from fhir_server.cli import app
from tests.api.conftest import make_client
from tests.bulk_export.conftest import LOINC, network

runner = CliRunner()


def _seeded_store(tmp_path: Path) -> str:
    with make_client("sqlite", tmp_path) as client:
        network(client)
    return f"sqlite:///{tmp_path / 'fhir.db'}"


def _lines(path: Path) -> list[dict]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


def test_cli_export_writes_ndjson_and_manifest(tmp_path: Path) -> None:
    store = _seeded_store(tmp_path)
    out = tmp_path / "out"
    result = runner.invoke(
        app,
        [
            "export",
            "--store",
            store,
            "--out",
            str(out),
            "--type",
            "Observation",
            "--type",
            "Patient",
            "--type-filter",
            f"Observation?code={LOINC}|4548-4",
        ],
    )
    assert result.exit_code == 0, result.output
    manifest = orjson.loads((out / "manifest.json").read_bytes())
    assert {o["type"]: (o["url"], o["count"]) for o in manifest["output"]} == {
        "Observation": ("Observation-1.ndjson", 3),
        "Patient": ("Patient-1.ndjson", 3),
    }
    hba1c = _lines(out / "Observation-1.ndjson")
    assert {o["code"]["coding"][0]["code"] for o in hba1c} == {"4548-4"}
    assert sorted(p["id"] for p in _lines(out / "Patient-1.ndjson")) == ["p1", "p2", "p3"]
    assert not list(out.glob("*.part"))


def test_cli_export_since_the_future_exports_nothing(tmp_path: Path) -> None:
    store = _seeded_store(tmp_path)
    out = tmp_path / "out"
    result = runner.invoke(
        app, ["export", "--store", store, "--out", str(out), "--since", "2999-01-01T00:00:00Z"]
    )
    assert result.exit_code == 0, result.output
    assert orjson.loads((out / "manifest.json").read_bytes())["output"] == []


def test_cli_export_refuses_bad_arguments_and_used_folders(tmp_path: Path) -> None:
    store = _seeded_store(tmp_path)
    out = tmp_path / "out"
    result = runner.invoke(app, ["export", "--store", store, "--out", str(out), "--type", "Nope"])
    assert result.exit_code == 2
    assert "Nope" in result.output
    out.mkdir(exist_ok=True)
    (out / "old.ndjson").write_text("{}\n")
    result = runner.invoke(app, ["export", "--store", store, "--out", str(out)])
    assert result.exit_code == 2
    assert "not empty" in result.output
