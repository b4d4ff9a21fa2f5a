"""Storage contract: commit hooks join a write session's unit of work around its commit."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from fhir_server.storage.base import Store, StoreSession
from fhir_server.storage.records import Write
from tests.contract.support import moment, record


def _audit_with_the_write(events: list[str]) -> Callable[[StoreSession], None]:
    def before(session: StoreSession) -> None:
        events.append("before")
        session.write([Write(record("AuditEvent", f"a{len(events)}", 1, moment(9)), None, 0)])

    return before


def test_hooks_run_around_the_commit_of_a_session_that_wrote(store: Store) -> None:
    events: list[str] = []
    store.commit_hooks.before.append(_audit_with_the_write(events))
    store.commit_hooks.after.append(lambda: events.append("after"))
    with store.session() as session:  # a read session: no hooks
        session.read("Observation", "o1")
    with store.session(write=True):  # wrote nothing: no hooks
        pass
    assert events == []
    with store.session(write=True) as session:
        session.write([Write(record("Observation", "o1", 1, moment(1)), None, 0)])
    assert events == ["before", "after"]
    with store.session() as session:  # the hook's write committed with the caller's
        assert session.read("AuditEvent", "a1") is not None


def test_a_hook_write_rolls_back_with_the_session(store: Store) -> None:
    if not store.transactional:
        pytest.skip(
            f"{store.kind} has no transactions (its session seam is a no-op): rollback"
            " is proven only on SQLite and a real MongoDB replica set (MONGODB_URI)"
        )
    events: list[str] = []
    store.commit_hooks.before.append(_audit_with_the_write(events))

    def refuse(session: StoreSession) -> None:
        raise RuntimeError("the commit is refused")

    store.commit_hooks.before.append(refuse)
    store.commit_hooks.after.append(lambda: events.append("after"))
    with pytest.raises(RuntimeError), store.session(write=True) as session:
        session.write([Write(record("Observation", "o1", 1, moment(1)), None, 0)])
    assert events == ["before"]  # no "after": nothing committed
    with store.session() as session:
        assert session.read("Observation", "o1") is None
        assert session.read("AuditEvent", "a1") is None
