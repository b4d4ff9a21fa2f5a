"""Storage contract: `replace_index` swaps the index of current versions in place."""

from __future__ import annotations

from fhir_server.storage.base import IndexUpdate, Store
from fhir_server.storage.query import Token
from fhir_server.storage.records import ResourceIndex, SortValue, TokenValue
from tests.contract.support import Writer, asc, ids, search


def _tokens(code: str) -> ResourceIndex:
    return ResourceIndex(
        tokens=[TokenValue("flavour", None, code)], sorts=[SortValue("flavour", code)]
    )


def test_replace_index_makes_new_values_searchable_without_a_new_version(store: Store) -> None:
    writer = Writer(store)
    first = writer.put("Observation", "o1", _tokens("old"))
    with store.session(write=True) as session:
        replaced = session.replace_index([IndexUpdate("Observation", "o1", 1, _tokens("new"))])
    assert replaced == 1
    assert ids(search(store, Token("flavour", "new"))) == ["o1"]
    assert ids(search(store, Token("flavour", "old"))) == []
    assert ids(search(store, sort=[asc("flavour")])) == ["o1"]
    with store.session() as session:
        current = session.read("Observation", "o1")
        history = session.vread("Observation", "o1", 2)
    assert current is not None and current.version == 1 and current.body == first.body
    assert history is None


def test_replace_index_skips_versions_that_are_no_longer_current(store: Store) -> None:
    writer = Writer(store)
    writer.put("Observation", "o1", _tokens("v1"))
    writer.put("Observation", "o1", _tokens("v2"))
    writer.put("Observation", "gone", _tokens("v1"))
    writer.delete("Observation", "gone")
    with store.session(write=True) as session:
        replaced = session.replace_index(
            [
                IndexUpdate("Observation", "o1", 1, _tokens("stale")),
                IndexUpdate("Observation", "gone", 1, _tokens("stale")),
                IndexUpdate("Observation", "nobody", 1, _tokens("stale")),
            ]
        )
    assert replaced == 0
    assert ids(search(store, Token("flavour", "stale"))) == []
    assert ids(search(store, Token("flavour", "v2"))) == ["o1"]
