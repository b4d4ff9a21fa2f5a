"""A Bundle of creates prepared outside the writer lock is written only if what it read
still holds: a commit in between is checked look-up by look-up, and a changed answer
makes the Bundle run again the ordinary way (rest/transaction.py, `speculate`)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from fhir_server.api.app import build_context
from fhir_server.errors import FhirError
from fhir_server.rest import transaction
from fhir_server.rest.bundle_entries import EntryPlan
from fhir_server.rest.bundle_post import process_bundle
from fhir_server.rest.context import RequestInfo, ServerContext
from fhir_server.rest.create import create
from fhir_server.rest.delete import delete
from fhir_server.rest.transaction import TransactionProcessor
from fhir_server.settings import Settings
from fhir_server.storage.sqlite import SQLiteStore

REQUEST = RequestInfo(base_url="http://test/fhir")
DOCTOR = "http://example.org/doctors|d-1"


@pytest.fixture
def ctx(tmp_path: Path) -> Iterator[ServerContext]:
    context = build_context(Settings(), store=SQLiteStore(str(tmp_path / "s.db")))
    yield context
    context.close()


def _doctor() -> dict[str, Any]:
    system, value = DOCTOR.split("|")
    return {"resourceType": "Practitioner", "identifier": [{"system": system, "value": value}]}


def _bundle(*entries: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "transaction", "entry": list(entries)}


def _encounter_of_the_doctor() -> dict[str, Any]:
    return {
        "fullUrl": "urn:uuid:enc-1",
        "resource": {
            "resourceType": "Encounter",
            "status": "finished",
            "class": {"code": "AMB"},
            "participant": [{"individual": {"reference": f"Practitioner?identifier={DOCTOR}"}}],
        },
        "request": {"method": "POST", "url": "Encounter"},
    }


def _in_another_thread(work: Callable[[], Any]) -> None:
    """Commit through another connection (the store keeps one per thread)."""
    errors: list[BaseException] = []

    def run() -> None:
        try:
            work()
        except BaseException as exc:  # re-raised in the test thread
            errors.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]


def _between_speculation_and_write(
    monkeypatch: pytest.MonkeyPatch, work: Callable[[], Any]
) -> list[object]:
    """Run `work` (in another thread) once speculation is done; collect the markers."""
    real = TransactionProcessor.speculate
    markers: list[object] = []

    def speculate_then_interfere(self: TransactionProcessor, plans: list) -> object | None:
        marker = real(self, plans)
        markers.append(marker)
        _in_another_thread(work)
        return marker

    monkeypatch.setattr(TransactionProcessor, "speculate", speculate_then_interfere)
    return markers


def _participant(ctx: ServerContext, response: Any) -> str:
    location = orjson.loads(response.body)["entry"][0]["response"]["location"]
    type_, id_ = location.split("/")[:2]
    with ctx.store.session() as session:
        record = session.read(type_, id_)
    assert record is not None
    return orjson.loads(record.body)["participant"][0]["individual"]["reference"]


def test_a_bundle_of_creates_is_prepared_before_the_lock(
    ctx: ServerContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    doctor = create(ctx, "Practitioner", _doctor()).record
    markers = _between_speculation_and_write(monkeypatch, lambda: None)
    response = process_bundle(ctx, REQUEST, _bundle(_encounter_of_the_doctor()))
    assert markers and markers[0] is not None  # SQLite can tell about commits
    assert _participant(ctx, response) == f"Practitioner/{doctor.id}"


def test_an_unrelated_commit_in_between_keeps_the_prepared_work(
    ctx: ServerContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    doctor = create(ctx, "Practitioner", _doctor()).record
    undone = []
    real_undo = TransactionProcessor._undo
    monkeypatch.setattr(
        TransactionProcessor,
        "_undo",
        lambda self, plans: (undone.append(1), real_undo(self, plans)),
    )
    _between_speculation_and_write(
        monkeypatch, lambda: create(ctx, "Patient", {"resourceType": "Patient"})
    )
    response = process_bundle(ctx, REQUEST, _bundle(_encounter_of_the_doctor()))
    assert _participant(ctx, response) == f"Practitioner/{doctor.id}"
    assert undone == []  # every look-up gave the same answer again


def test_a_conditional_reference_whose_target_changed_is_resolved_again(
    ctx: ServerContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = create(ctx, "Practitioner", _doctor()).record
    replacement: list[str] = []

    def replace_the_doctor() -> None:
        delete(ctx, "Practitioner", first.id)
        replacement.append(create(ctx, "Practitioner", _doctor()).record.id)

    _between_speculation_and_write(monkeypatch, replace_the_doctor)
    response = process_bundle(ctx, REQUEST, _bundle(_encounter_of_the_doctor()))
    assert _participant(ctx, response) == f"Practitioner/{replacement[0]}"


def test_a_conditional_reference_that_became_ambiguous_fails_the_bundle(
    ctx: ServerContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    create(ctx, "Practitioner", _doctor())
    _between_speculation_and_write(monkeypatch, lambda: create(ctx, "Practitioner", _doctor()))
    with pytest.raises(FhirError) as caught:
        process_bundle(ctx, REQUEST, _bundle(_encounter_of_the_doctor()))
    assert caught.value.status == 412
    with ctx.store.session() as session:
        assert session.count(("Encounter",), None) == 0  # nothing written


def test_if_none_exist_matched_by_a_create_in_between_writes_no_duplicate(
    ctx: ServerContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    entry = {
        "fullUrl": "urn:uuid:doc",
        "resource": _doctor(),
        "request": {"method": "POST", "url": "Practitioner", "ifNoneExist": f"identifier={DOCTOR}"},
    }
    encounter = _encounter_of_the_doctor()
    encounter["resource"]["participant"][0]["individual"]["reference"] = "urn:uuid:doc"
    made: list[str] = []
    _between_speculation_and_write(
        monkeypatch, lambda: made.append(create(ctx, "Practitioner", _doctor()).record.id)
    )
    response = process_bundle(ctx, REQUEST, _bundle(entry, encounter))
    entries = orjson.loads(response.body)["entry"]
    assert entries[0]["response"]["status"] == "200 OK"  # matched, not created
    with ctx.store.session() as session:
        assert session.count(("Practitioner",), None) == 1
        encounter_id = entries[1]["response"]["location"].split("/")[1]
        stored = orjson.loads(session.read("Encounter", encounter_id).body)
    assert stored["participant"][0]["individual"]["reference"] == f"Practitioner/{made[0]}"


def test_bundles_that_change_how_others_are_written_are_not_speculated() -> None:
    def plan(type_: str) -> Any:
        return EntryPlan(0, "POST", type_, type_, None, "", "", {}, None)

    assert transaction._speculative([plan("Patient"), plan("Observation")])
    assert not transaction._speculative([plan("SearchParameter"), plan("Patient")])


def test_a_reference_whose_target_was_deleted_in_between_fails_the_bundle(
    ctx: ServerContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    doctor = create(ctx, "Practitioner", _doctor()).record
    encounter = _encounter_of_the_doctor()
    encounter["resource"]["participant"][0]["individual"]["reference"] = (
        f"Practitioner/{doctor.id}"  # checked while speculating: it existed then
    )
    _between_speculation_and_write(monkeypatch, lambda: delete(ctx, "Practitioner", doctor.id))
    with pytest.raises(FhirError) as caught:
        process_bundle(ctx, REQUEST, _bundle(encounter))
    assert caught.value.status == 422
    assert "does not exist" in caught.value.issues[0].diagnostics
    with ctx.store.session() as session:
        assert session.count(("Encounter",), None) == 0
