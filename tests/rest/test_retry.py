"""A unit of work the store aborted for a concurrent one is run again, a few times."""

from __future__ import annotations

from pathlib import Path

import pytest

from fhir_server.api.app import build_context
from fhir_server.rest import create as create_module
from fhir_server.rest.retry import ATTEMPTS, retry_conflicts
from fhir_server.settings import Settings
from fhir_server.storage.base import TransactionConflict
from fhir_server.storage.sqlite import SQLiteSession, SQLiteStore


def test_interaction_succeeds_after_transient_conflicts() -> None:
    calls = []

    @retry_conflicts
    def work() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise TransactionConflict("The transaction")
        return "done"

    assert work() == "done"
    assert len(calls) == 3


def test_conflict_that_persists_reaches_the_client_as_409() -> None:
    calls = []

    @retry_conflicts
    def work() -> None:
        calls.append(1)
        raise TransactionConflict("The transaction")

    with pytest.raises(TransactionConflict) as caught:
        work()
    assert len(calls) == ATTEMPTS
    assert caught.value.status == 409
    assert caught.value.headers["Retry-After"] == "1"


def test_create_aborted_once_by_the_store_is_written_exactly_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx = build_context(Settings(), store=SQLiteStore(str(tmp_path / "f.db")))
    real_write = SQLiteSession.write
    aborted = []

    def write_aborting_once(self: SQLiteSession, writes: list) -> None:
        if not aborted:
            aborted.append(1)
            raise TransactionConflict("The transaction")
        real_write(self, writes)

    monkeypatch.setattr(SQLiteSession, "write", write_aborting_once)
    try:
        result = create_module.create(
            ctx, "Patient", {"resourceType": "Patient", "gender": "female"}
        )
        assert result.status == 201
        with ctx.store.session() as session:
            assert session.count(("Patient",), None) == 1
    finally:
        ctx.close()
