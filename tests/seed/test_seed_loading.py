"""`fhir-server seed` and `fhir-server generate` against a SQLite store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fhir_server.api.app import build_context
from fhir_server.cli import app
from fhir_server.generate import network
from fhir_server.rest.context import ServerContext
from fhir_server.seeding import SeedSummary, load_seed_folder
from fhir_server.settings import Settings
from tests.seed.support import SEED_DIR, load, seed_resources


@pytest.fixture(scope="module")
def seeded(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[ServerContext, SeedSummary]]:
    """One store seeded once for the module (loading the network is the slow part)."""
    db = tmp_path_factory.mktemp("seed") / "fhir.db"
    ctx = build_context(Settings(store=f"sqlite:///{db}"))
    first = load_seed_folder(ctx, SEED_DIR)
    try:
        yield ctx, first
    finally:
        ctx.close()


def test_first_load_creates_everything(seeded: tuple[ServerContext, SeedSummary]) -> None:
    _, first = seeded
    total = len(seed_resources())
    assert (first.created, first.updated, first.unchanged) == (total, 0, 0)


def test_second_load_changes_nothing(seeded: tuple[ServerContext, SeedSummary]) -> None:
    ctx, _ = seeded
    again = load_seed_folder(ctx, SEED_DIR)
    total = len(seed_resources())
    assert (again.created, again.updated, again.unchanged) == (0, 0, total)
    keys = [(r["resourceType"], r["id"]) for r in seed_resources()]
    with ctx.store.session() as session:
        records = session.read_many(keys)
    assert len(records) == total
    assert {r.version for r in records.values()} == {1}, "a reload wrote new versions"


def test_generate_is_reproducible_and_loads(
    seeded: tuple[ServerContext, SeedSummary], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(network, "PEOPLE_PER_FILE", 10)
    runner = CliRunner()
    outputs = []
    for name, seed in (("a", 5), ("b", 5), ("c", 6)):
        result = runner.invoke(app, ["generate", "--patients", "25", "--seed", str(seed),
                                     "--out", str(tmp_path / name)])  # fmt: skip
        assert result.exit_code == 0, result.output
        outputs.append({p.name: p.read_bytes() for p in sorted((tmp_path / name).iterdir())})
    same_a, same_b, other = outputs
    assert same_a == same_b
    people = [n for n in same_a if n.startswith("10-people-")]
    assert people == ["10-people-0001.json", "10-people-0002.json", "10-people-0003.json"]
    assert same_a[people[0]] != other[people[0]]
    for name in same_a:
        if not name.startswith("10-"):
            assert same_a[name] == (SEED_DIR / name).read_bytes()
    ctx, _ = seeded
    summary = load_seed_folder(ctx, tmp_path / "a")
    new = sum(len(load(tmp_path / "a" / n)["entry"]) for n in people)
    assert (summary.created, summary.updated, summary.unchanged) == (
        new,
        0,
        len(seed_resources()),
    )
    patients = sum(
        1
        for n in people
        for e in load(tmp_path / "a" / n)["entry"]
        if e["resource"]["resourceType"] == "Patient"
    )
    assert patients >= 25
