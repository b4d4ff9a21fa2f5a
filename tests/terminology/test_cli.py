"""`fhir-server terminology load | list` on a SQLite store file."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from fhir_server.cli import app
from fhir_server.storage.sqlite import SQLiteStore

DATA = Path(__file__).parent / "data"


def test_load_then_list(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fhir.db'}"
    runner = CliRunner()
    result = runner.invoke(
        app, ["terminology", "load", "snomed", str(DATA / "rf2"), "--version", "20240101",
              "--store", url],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "loaded 7 concepts of http://snomed.info/sct version 20240101" in result.output
    listed = runner.invoke(app, ["terminology", "list", "--store", url])
    assert "http://snomed.info/sct" in listed.output and "20240101" in listed.output
    store = SQLiteStore(str(tmp_path / "fhir.db"))
    try:
        assert store.terminology.lookup("http://snomed.info/sct", "73211009") is not None
    finally:
        store.close()


def test_a_file_in_the_wrong_format_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fhir.db'}"
    result = CliRunner().invoke(
        app, ["terminology", "load", "loinc", str(DATA / "icd10.tsv"), "--store", url]
    )
    assert result.exit_code == 1
    assert "LOINC_NUM" in result.output
