"""Storage contract: a write session is all-or-nothing.

These need real transactions. mongomock has none (its session seam is a no-op), so they
are skipped there with that reason; they run on SQLite and on a real MongoDB replica set.
"""

from __future__ import annotations

import threading

import pytest

from fhir_server.storage.base import Store, VersionConflict
from fhir_server.storage.query import Token
from fhir_server.storage.records import ResourceIndex, TokenValue, Write
from tests.contract.support import Writer, ids, moment, record, search


def needs_transactions(store: Store) -> None:
    if not store.transactional:
        pytest.skip(
            f"{store.kind} has no transactions (its session seam is a no-op): atomicity"
            " is proven only on SQLite and a real MongoDB replica set (MONGODB_URI)"
        )


class Boom(Exception):
    pass


def test_a_write_session_that_raises_persists_nothing(store: Store) -> None:
    needs_transactions(store)
    index = ResourceIndex(tokens=[TokenValue("code", None, "x")])
    with pytest.raises(Boom), store.session(write=True) as session:
        session.write([Write(record("Observation", "o1", 1, moment(1)), index, 0)])
        raise Boom
    with store.session() as session:
        assert session.read("Observation", "o1") is None
        assert session.vread("Observation", "o1", 1) is None
    assert ids(search(store, Token("code", "x"))) == []


def test_a_conflict_part_way_through_a_batch_undoes_the_whole_batch(store: Store) -> None:
    needs_transactions(store)
    Writer(store).put("Patient", "existing")
    batch = [
        Write(record("Patient", "new", 1, moment(10)), ResourceIndex(), 0),
        Write(record("Patient", "existing", 1, moment(10)), ResourceIndex(), 0),
    ]
    with pytest.raises(VersionConflict), store.session(write=True) as session:
        session.write(batch)
    with store.session() as session:
        assert session.read("Patient", "new") is None
        current = session.read("Patient", "existing")
        assert current is not None and current.version == 1


def test_an_update_rolled_back_keeps_the_previous_version_current(store: Store) -> None:
    needs_transactions(store)
    writer = Writer(store)
    writer.put("Patient", "p", ResourceIndex(tokens=[TokenValue("code", None, "old")]))
    with pytest.raises(Boom), store.session(write=True) as session:
        index = ResourceIndex(tokens=[TokenValue("code", None, "new")])
        session.write([Write(record("Patient", "p", 2, moment(50)), index, 1)])
        raise Boom
    with store.session() as session:
        current = session.read("Patient", "p")
        assert current is not None and current.version == 1
        assert session.vread("Patient", "p", 2) is None
    assert ids(search(store, Token("code", "old"), types=["Patient"])) == ["p"]
    assert ids(search(store, Token("code", "new"), types=["Patient"])) == []


def test_a_nested_session_joins_the_outer_unit_of_work(store: Store) -> None:
    needs_transactions(store)
    with pytest.raises(Boom), store.session(write=True):
        with store.session(write=True) as inner:
            inner.write([Write(record("Patient", "p", 1, moment(1)), ResourceIndex(), 0)])
        raise Boom
    with store.session() as session:
        assert session.read("Patient", "p") is None


def test_concurrent_writers_of_one_version_cannot_both_succeed(store: Store) -> None:
    needs_transactions(store)
    Writer(store).put("Patient", "p")
    outcomes: list[str] = []
    barrier = threading.Barrier(4)

    def update(n: int) -> None:
        barrier.wait()
        try:
            with store.session(write=True) as session:
                new = record("Patient", "p", 2, moment(10 + n), writer=n)
                session.write([Write(new, ResourceIndex(), 1)])
            outcomes.append("ok")
        except VersionConflict:
            outcomes.append("conflict")
        except Exception as exc:  # a transient server abort is a conflict too
            outcomes.append("conflict" if getattr(exc, "retryable", False) else repr(exc))

    threads = [threading.Thread(target=update, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict", "conflict", "conflict", "ok"]
    with store.session() as session:
        current = session.read("Patient", "p")
    assert current is not None and current.version == 2
