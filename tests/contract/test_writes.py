"""Storage contract: writing versions, reading them back, optimistic concurrency, deletes."""

from __future__ import annotations

import pytest

from fhir_server.storage.base import Store, VersionConflict
from fhir_server.storage.query import Token
from fhir_server.storage.records import ResourceIndex, TokenValue, Write
from tests.contract.support import Writer, ids, moment, record, search


def code_index(code: str) -> ResourceIndex:
    return ResourceIndex(tokens=[TokenValue("code", "http://loinc.org", code)])


def test_a_written_version_reads_back_byte_for_byte(store: Store) -> None:
    written = Writer(store).put("Observation", "o1", status="final", note="हृदय गति")
    with store.session() as session:
        got = session.read("Observation", "o1")
    assert got is not None
    assert got.body == written.body
    assert (got.type, got.id, got.version, got.deleted) == ("Observation", "o1", 1, False)
    assert got.last_updated == written.last_updated  # microseconds survive


def test_reading_an_unknown_resource_gives_none(store: Store) -> None:
    with store.session() as session:
        assert session.read("Observation", "nope") is None
        assert session.vread("Observation", "nope", 1) is None


def test_microsecond_instants_survive_the_round_trip(store: Store) -> None:
    when = moment(0.123456)
    with store.session(write=True) as session:
        session.write([Write(record("Patient", "p", 1, when), ResourceIndex(), 0)])
    with store.session() as session:
        got = session.read("Patient", "p")
        old = session.vread("Patient", "p", 1)
    assert got is not None and old is not None
    assert got.last_updated == when == old.last_updated


def test_an_update_makes_a_new_current_version_and_keeps_the_old_one(store: Store) -> None:
    writer = Writer(store)
    first = writer.put("Observation", "o1", status="preliminary")
    second = writer.put("Observation", "o1", status="final")
    with store.session() as session:
        current = session.read("Observation", "o1")
        old = session.vread("Observation", "o1", 1)
        new = session.vread("Observation", "o1", 2)
        assert session.vread("Observation", "o1", 3) is None
    assert current is not None and current.version == 2 and current.body == second.body
    assert old is not None and old.body == first.body and old.method == "POST"
    assert new is not None and new.body == second.body and new.method == "PUT"


def test_a_stale_expected_version_is_a_conflict_and_changes_nothing(store: Store) -> None:
    writer = Writer(store)
    writer.put("Observation", "o1")
    writer.put("Observation", "o1")
    stale = record("Observation", "o1", 2, moment(100), status="amended")
    with pytest.raises(VersionConflict) as caught, store.session(write=True) as session:
        session.write([Write(stale, ResourceIndex(), 1)])
    assert (caught.value.type, caught.value.id) == ("Observation", "o1")
    assert (caught.value.expected, caught.value.actual) == (1, 2)
    with store.session() as session:
        current = session.read("Observation", "o1")
    assert current is not None and current.version == 2
    assert b"amended" not in current.body


def test_creating_an_id_that_exists_is_a_conflict(store: Store) -> None:
    Writer(store).put("Observation", "o1")
    with pytest.raises(VersionConflict) as caught, store.session(write=True) as session:
        session.write([Write(record("Observation", "o1", 1, moment(50)), ResourceIndex(), 0)])
    assert (caught.value.expected, caught.value.actual) == (0, 1)


def test_expecting_a_version_of_a_missing_resource_is_a_conflict(store: Store) -> None:
    with pytest.raises(VersionConflict) as caught, store.session(write=True) as session:
        session.write([Write(record("Observation", "ghost", 4, moment(1)), ResourceIndex(), 3)])
    assert (caught.value.expected, caught.value.actual) == (3, 0)


def test_no_expected_version_writes_unconditionally(store: Store) -> None:
    with store.session(write=True) as session:
        session.write([Write(record("Patient", "p", 1, moment(1)), ResourceIndex(), None)])
        session.write([Write(record("Patient", "p", 7, moment(2)), ResourceIndex(), None)])
    with store.session() as session:
        current = session.read("Patient", "p")
        assert current is not None and current.version == 7
        assert session.vread("Patient", "p", 1) is not None


def test_several_versions_of_one_resource_in_one_write(store: Store) -> None:
    with store.session(write=True) as session:
        session.write(
            [
                Write(record("Patient", "p", 1, moment(1)), ResourceIndex(), 0),
                Write(record("Patient", "p", 2, moment(2)), ResourceIndex(), 1),
                Write(record("Patient", "q", 1, moment(2)), ResourceIndex(), 0),
            ]
        )
    with store.session() as session:
        current = session.read("Patient", "p")
        assert current is not None and current.version == 2
        assert session.vread("Patient", "p", 1) is not None
        assert session.read("Patient", "q") is not None


def test_an_update_replaces_the_whole_search_index(store: Store) -> None:
    writer = Writer(store)
    writer.put("Observation", "o1", code_index("1111-1"))
    writer.put("Observation", "o1", code_index("2222-2"))
    assert ids(search(store, Token("code", "1111-1"))) == []
    assert ids(search(store, Token("code", "2222-2"))) == ["o1"]


def test_a_delete_leaves_a_tombstone_that_read_returns(store: Store) -> None:
    writer = Writer(store)
    writer.put("Observation", "o1", code_index("1111-1"))
    tombstone = writer.delete("Observation", "o1")
    with store.session() as session:
        got = session.read("Observation", "o1")
        old = session.vread("Observation", "o1", 1)
        gone = session.vread("Observation", "o1", 2)
    assert got is not None and got.deleted and got.version == 2 and got.body == b""
    assert got.last_updated == tombstone.last_updated
    assert old is not None and not old.deleted
    assert gone is not None and gone.deleted and gone.method == "DELETE"


def test_a_deleted_resource_is_no_longer_found_counted_or_streamed(store: Store) -> None:
    writer = Writer(store)
    writer.put("Observation", "o1", code_index("1111-1"))
    writer.put("Observation", "o2", code_index("1111-1"))
    writer.delete("Observation", "o1")
    assert ids(search(store, Token("code", "1111-1"))) == ["o2"]
    assert ids(search(store, None)) == ["o2"]
    with store.session() as session:
        assert session.count(["Observation"], None) == 1
        assert session.match_keys(["Observation"], Token("code", "1111-1")) == [
            ("Observation", "o2")
        ]
        assert set(session.read_many([("Observation", "o1"), ("Observation", "o2")])) == {
            ("Observation", "o2")
        }
    assert [r.id for r in store.iter_current("Observation")] == ["o2"]


def test_recreating_a_deleted_resource_continues_its_versions(store: Store) -> None:
    writer = Writer(store)
    writer.put("Observation", "o1", code_index("1111-1"))
    writer.delete("Observation", "o1")
    with pytest.raises(VersionConflict), store.session(write=True) as session:
        session.write([Write(record("Observation", "o1", 1, moment(90)), ResourceIndex(), 0)])
    again = writer.put("Observation", "o1", code_index("3333-3"))
    assert again.version == 3
    assert ids(search(store, Token("code", "3333-3"))) == ["o1"]


def test_read_many_returns_current_versions_of_the_keys_that_exist(store: Store) -> None:
    writer = Writer(store)
    for i in range(1100):  # more than one look-up batch in every adapter
        writer.put("Patient", f"p{i}")
    writer.put("Patient", "p5")
    writer.delete("Patient", "p6")
    keys = [("Patient", f"p{i}") for i in range(1100)]
    keys += [("Patient", "p1"), ("Patient", "unknown"), ("Observation", "p1")]
    with store.session() as session:
        found = session.read_many(keys)
    assert len(found) == 1099
    assert found[("Patient", "p5")].version == 2
    assert ("Patient", "p6") not in found
    assert found[("Patient", "p1")].id == "p1"


def test_iter_current_streams_every_current_version(store: Store) -> None:
    writer = Writer(store)
    writer.put("Patient", "a")
    writer.put("Observation", "x")
    writer.put("Patient", "b")
    writer.put("Patient", "a")
    writer.put("Patient", "c")
    writer.delete("Patient", "c")
    patients = {(r.id, r.version) for r in store.iter_current("Patient")}
    assert patients == {("a", 2), ("b", 1)}
    everything = {(r.type, r.id) for r in store.iter_current()}
    assert everything == {("Patient", "a"), ("Patient", "b"), ("Observation", "x")}


def test_write_needs_a_write_session(store: Store) -> None:
    with pytest.raises(RuntimeError), store.session() as session:
        session.write([Write(record("Patient", "p", 1, moment(1)), ResourceIndex(), 0)])


def test_lock_can_be_taken_in_a_write_session(store: Store) -> None:
    with store.session(write=True) as session:
        session.lock("create:Patient?identifier=x|1")
        session.lock("create:Patient?identifier=x|1")
        session.write([Write(record("Patient", "p", 1, moment(1)), ResourceIndex(), 0)])
    with store.session() as session:
        assert session.read("Patient", "p") is not None
