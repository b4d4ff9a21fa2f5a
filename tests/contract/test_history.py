"""Storage contract: history at instance, type and system level."""

from __future__ import annotations

import pytest

from fhir_server.errors import FhirError
from fhir_server.storage.base import HistoryPage, HistoryQuery, Store
from tests.contract.support import Writer, moment


@pytest.fixture
def timeline(store: Store) -> Store:
    """p1 v1 @1, o1 v1 @2, p1 v2 @3, p2 v1 @4, p1 deleted (v3) @5, o1 v2 @6."""
    writer = Writer(store)
    writer.put("Patient", "p1", name="first")
    writer.put("Observation", "o1")
    writer.put("Patient", "p1", name="second")
    writer.put("Patient", "p2")
    writer.delete("Patient", "p1")
    writer.put("Observation", "o1")
    return store


def history(store: Store, **query: object) -> HistoryPage:
    with store.session() as session:
        return session.history(HistoryQuery(**query))  # type: ignore[arg-type]


def versions(page: HistoryPage) -> list[str]:
    return [f"{r.type}/{r.id}/{r.version}" for r in page.records]


def walk(store: Store, **query: object) -> list[str]:
    seen: list[str] = []
    cursor = None
    for _ in range(100):
        page = history(store, cursor=cursor, **query)
        seen += versions(page)
        cursor = page.next_cursor
        if cursor is None:
            return seen
    raise AssertionError("paging did not end")


SYSTEM = [
    "Observation/o1/2",
    "Patient/p1/3",
    "Patient/p2/1",
    "Patient/p1/2",
    "Observation/o1/1",
    "Patient/p1/1",
]


def test_instance_history_is_newest_first_with_the_delete(timeline: Store) -> None:
    page = history(timeline, type="Patient", id="p1")
    assert versions(page) == ["Patient/p1/3", "Patient/p1/2", "Patient/p1/1"]
    deleted = page.records[0]
    assert deleted.deleted and deleted.body == b"" and deleted.method == "DELETE"
    assert [r.method for r in page.records[1:]] == ["PUT", "POST"]
    assert b"second" in page.records[1].body and b"first" in page.records[2].body
    assert page.total == 3


def test_instance_history_of_an_unknown_resource_is_empty(timeline: Store) -> None:
    page = history(timeline, type="Patient", id="nobody")
    assert page.records == [] and page.total == 0 and page.next_cursor is None


def test_type_history_holds_every_version_of_that_type(timeline: Store) -> None:
    page = history(timeline, type="Patient")
    assert versions(page) == [v for v in SYSTEM if v.startswith("Patient/")]


def test_system_history_holds_every_version(timeline: Store) -> None:
    assert versions(history(timeline)) == SYSTEM


@pytest.mark.parametrize("count", [1, 2, 4])
def test_history_pages_by_cursor_without_gaps_or_duplicates(timeline: Store, count: int) -> None:
    assert walk(timeline, count=count) == SYSTEM
    assert walk(timeline, type="Patient", id="p1", count=count) == [
        "Patient/p1/3",
        "Patient/p1/2",
        "Patient/p1/1",
    ]


def test_instance_total_counts_every_version_not_the_page(timeline: Store) -> None:
    page = history(timeline, type="Patient", id="p1", count=1)
    assert len(page.records) == 1 and page.total == 3 and page.next_cursor is not None


def test_new_versions_between_pages_do_not_disturb_older_pages(timeline: Store) -> None:
    first = history(timeline, count=2)
    writer = Writer(timeline)
    writer.clock.ticks = 50
    writer.put("Patient", "p3")
    rest = walk_from(timeline, first.next_cursor, count=2)
    assert versions(first) + rest == SYSTEM


def walk_from(store: Store, cursor: str | None, count: int) -> list[str]:
    seen: list[str] = []
    while cursor:
        page = history(store, cursor=cursor, count=count)
        seen += versions(page)
        cursor = page.next_cursor
    return seen


def test_since_keeps_versions_updated_at_or_after(timeline: Store) -> None:
    assert versions(history(timeline, since=moment(4))) == SYSTEM[:3]
    assert versions(history(timeline, type="Patient", since=moment(3))) == [
        "Patient/p1/3",
        "Patient/p2/1",
        "Patient/p1/2",
    ]


def test_at_gives_the_versions_current_in_the_interval(timeline: Store) -> None:
    # between @3.5 and @3.6 p1 v2 (from @3), o1 v1 (from @2) were current
    assert versions(history(timeline, at=(moment(3.5), moment(3.6)))) == [
        "Patient/p1/2",
        "Observation/o1/1",
    ]
    # over [@4, @6): p1 v2 until @5, p2 from @4, p1's tombstone from @5, o1 v1 until @6
    assert versions(history(timeline, at=(moment(4), moment(6)))) == [
        "Patient/p1/3",
        "Patient/p2/1",
        "Patient/p1/2",
        "Observation/o1/1",
    ]
    assert versions(history(timeline, type="Patient", id="p1", at=(moment(1), moment(1.5)))) == [
        "Patient/p1/1"
    ]
    assert versions(history(timeline, at=(moment(0), moment(0.5)))) == []


def test_a_garbled_history_cursor_is_rejected(timeline: Store) -> None:
    with pytest.raises(FhirError) as caught:
        history(timeline, cursor="bm90IGEgY3Vyc29y")
    assert caught.value.status == 400
