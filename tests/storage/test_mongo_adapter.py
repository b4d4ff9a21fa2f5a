"""MongoDB adapter specifics, on mongomock: URL handling, document layout, the session seam.

The adapter's search and write semantics are covered by tests/contract; these tests pin
what the contract cannot see (what the documents look like, how the seam behaves).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import mongomock
import pytest
from pymongo.errors import OperationFailure

from fhir_server.errors import FhirError
from fhir_server.storage.mongo import MongoStore, TransactionConflict
from fhir_server.storage.records import (
    RangeValue,
    ResourceIndex,
    SortValue,
    StringValue,
    TokenValue,
    Write,
)
from tests.contract.support import Writer, moment, record


@pytest.fixture
def mongo() -> Iterator[MongoStore]:
    store = MongoStore.from_url("mongomock://localhost/fhir_unit")
    yield store
    store.close()


def test_a_mongomock_url_names_the_database_and_is_not_transactional() -> None:
    store = MongoStore.from_url("mongomock://localhost/clinic_db")
    assert (store.kind, store.transactional, store.db.name) == ("mongomock", False, "clinic_db")
    default = MongoStore.from_url("mongomock://localhost", default_database="fallback")
    assert default.db.name == "fallback"


def test_indexes_are_created_at_start_up_and_again_harmlessly() -> None:
    client = mongomock.MongoClient()
    MongoStore(client, "fhir", "mongomock", transactional=False)
    MongoStore(client, "fhir", "mongomock", transactional=False)
    names = set(client.fhir.resources.index_information())
    assert {"rid", "token", "string", "range_low", "reference", "compartment"} <= names
    assert "type_id_version" in client.fhir.history.index_information()


def test_the_current_document_carries_body_bytes_and_index_arrays(mongo: MongoStore) -> None:
    index = ResourceIndex(
        tokens=[TokenValue("code", "http://loinc.org", "8867-4", "heart rate")],
        strings=[StringValue("name", "asha", "Asha")],
        ranges=[RangeValue("date", None, 10.0)],
        sorts=[SortValue("name", "asha"), SortValue("name", "ignored"), SortValue("a.b", 1.0)],
        compartments=["p1", "p1"],
    )
    written = Writer(mongo).put("Observation", "o1", index)
    doc = mongo.db.resources.find_one({"_id": "Observation/o1"})
    assert bytes(doc["body"]) == written.body
    assert isinstance(doc["last_updated"], int)
    assert doc["tok"] == [{"p": "code", "s": "http://loinc.org", "c": "8867-4", "t": "heart rate"}]
    assert doc["rng"] == [{"p": "date", "lo": float("-inf"), "hi": 10.0}]
    assert doc["srt"] == {"name": "asha", "a%2Eb": 1.0}  # first key per parameter wins
    assert doc["pat"] == ["p1"]


def test_a_tombstone_document_has_empty_index_arrays(mongo: MongoStore) -> None:
    writer = Writer(mongo)
    writer.put("Observation", "o1", ResourceIndex(tokens=[TokenValue("code", None, "x")]))
    rid = mongo.db.resources.find_one({"_id": "Observation/o1"})["rid"]
    writer.delete("Observation", "o1")
    doc = mongo.db.resources.find_one({"_id": "Observation/o1"})
    assert doc["deleted"] is True and bytes(doc["body"]) == b""
    assert doc["tok"] == [] and doc["srt"] == {} and doc["pat"] == []
    assert doc["rid"] == rid  # the paging tiebreak survives updates


def test_history_documents_close_the_previous_version(mongo: MongoStore) -> None:
    writer = Writer(mongo)
    writer.put("Patient", "p")
    second = writer.put("Patient", "p")
    first_doc = mongo.db.history.find_one({"type": "Patient", "id": "p", "version": 1})
    second_doc = mongo.db.history.find_one({"type": "Patient", "id": "p", "version": 2})
    assert first_doc["ended"] == second_doc["last_updated"]
    assert second_doc["ended"] is None and bytes(second_doc["body"]) == second.body


def test_write_sessions_through_the_no_op_seam_are_counted(mongo: MongoStore) -> None:
    with mongo.session():
        pass
    assert mongo.untransacted_sessions == 0
    with mongo.session(write=True) as session:
        session.lock("create:Patient?identifier=a|1")  # a no-op without transactions
        session.write([Write(record("Patient", "p", 1, moment(1)), ResourceIndex(), 0)])
    assert mongo.untransacted_sessions == 1
    assert mongo.db.locks.count_documents({}) == 0


# -- the transaction seam, with a stand-in for pymongo's ClientSession -------------------


class FakeClientSession:
    def __init__(self, commit_error: Exception | None = None) -> None:
        self.events: list[str] = []
        self.in_transaction = False
        self.commit_error = commit_error

    def __enter__(self) -> FakeClientSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.events.append("end")

    def start_transaction(self, **options: Any) -> None:
        self.in_transaction = True
        self.events.append("start")

    def commit_transaction(self) -> None:
        self.in_transaction = False
        if self.commit_error is not None:
            raise self.commit_error
        self.events.append("commit")

    def abort_transaction(self) -> None:
        self.in_transaction = False
        self.events.append("abort")


@contextmanager
def transactional(fake: FakeClientSession) -> Iterator[MongoStore]:
    client = mongomock.MongoClient()
    client.start_session = lambda **kwargs: fake
    yield MongoStore(client, "fhir", "mongodb", transactional=True)


def transient(message: str) -> OperationFailure:
    error = OperationFailure(message, code=112)
    error._add_error_label("TransientTransactionError")
    return error


def test_a_write_session_commits_its_transaction_when_the_block_ends() -> None:
    fake = FakeClientSession()
    with transactional(fake) as store, store.session(write=True) as session:
        assert session.client_session is fake
    assert fake.events == ["start", "commit", "end"]


def test_a_write_session_aborts_its_transaction_when_the_block_raises() -> None:
    fake = FakeClientSession()
    with pytest.raises(KeyError), transactional(fake) as store, store.session(write=True):
        raise KeyError("boom")
    assert fake.events == ["start", "abort", "end"]


def test_a_transient_abort_surfaces_as_a_retryable_conflict() -> None:
    fake = FakeClientSession()
    with (
        pytest.raises(TransactionConflict) as caught,
        transactional(fake) as store,
        store.session(write=True),
    ):
        raise transient("WriteConflict")
    assert fake.events == ["start", "abort", "end"]
    assert caught.value.status == 409 and caught.value.retryable
    assert isinstance(caught.value, FhirError)


def test_a_transient_commit_failure_surfaces_as_a_retryable_conflict() -> None:
    fake = FakeClientSession(commit_error=transient("commit conflict"))
    with (
        pytest.raises(TransactionConflict),
        transactional(fake) as store,
        store.session(write=True),
    ):
        pass


def test_a_nested_session_joins_the_outer_transaction() -> None:
    fake = FakeClientSession()
    with (
        transactional(fake) as store,
        store.session(write=True) as outer,
        store.session(write=True) as inner,
    ):
        assert inner is outer
    assert fake.events.count("start") == 1


def test_a_write_session_inside_a_read_session_can_write(mongo: MongoStore) -> None:
    with mongo.session() as outer:
        with mongo.session(write=True) as inner:
            inner.write([Write(record("Patient", "p", 1, moment(1)), ResourceIndex(), 0)])
        assert outer.read("Patient", "p") is not None
        with mongo.session() as again:
            assert again is outer
