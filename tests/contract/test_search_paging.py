"""Storage contract: sort orders, keyset paging, totals."""

from __future__ import annotations

import pytest

from fhir_server.errors import FhirError
from fhir_server.storage.base import Store
from fhir_server.storage.query import SortKey, Token
from fhir_server.storage.records import ResourceIndex, SortValue, TokenValue
from tests.contract.support import Writer, all_pages, asc, desc, ids, search

# (id, family, given, score): None = the resource has no value for that parameter
PEOPLE = [
    ("pa", "sharma", "anil", 10.0),
    ("pb", "sharma", "bina", 9.5),
    ("pc", "gupta", None, 100.0),
    ("pd", None, "zoya", None),
    ("pe", "sharma", None, 2.0),
    ("pf", "अग्रवाल", "ravi", 10.0),  # Devanagari sorts after Latin
]


def person(family: str | None, given: str | None, score: float | None) -> ResourceIndex:
    sorts = [
        SortValue(param, value)
        for param, value in (("family", family), ("given", given), ("score", score))
        if value is not None
    ]
    return ResourceIndex(tokens=[TokenValue("active", None, "true")], sorts=sorts)


@pytest.fixture
def people(store: Store) -> Store:
    writer = Writer(store)
    for id_, family, given, score in PEOPLE:
        writer.put("Patient", id_, person(family, given, score))
    return store


def order(store: Store, *sort: SortKey, count: int = 100) -> list[str]:
    return ids(search(store, None, ("Patient",), sort, count))


ORDERS: dict[str, tuple[tuple[SortKey, ...], list[str]]] = {
    "string ascending, missing last": (
        (asc("family"),),
        ["pc", "pa", "pb", "pe", "pf", "pd"],
    ),
    "string descending, missing still last": (
        (desc("family"),),
        ["pf", "pa", "pb", "pe", "pc", "pd"],
    ),
    "number ascending compares numerically": (
        (asc("score"),),
        ["pe", "pb", "pa", "pf", "pc", "pd"],
    ),
    "number descending": ((desc("score"),), ["pc", "pa", "pf", "pb", "pe", "pd"]),
    "two keys, the second breaks ties": (
        (asc("family"), desc("given")),
        ["pc", "pb", "pa", "pe", "pf", "pd"],
    ),
    "two keys in the other directions": (
        (desc("family"), asc("given")),
        ["pf", "pa", "pb", "pe", "pc", "pd"],
    ),
    "three keys with ties and missing values": (
        (asc("score"), asc("family"), desc("given")),
        ["pe", "pb", "pa", "pf", "pc", "pd"],
    ),
    "id ascending": ((asc("_id"),), ["pa", "pb", "pc", "pd", "pe", "pf"]),
    "id descending": ((desc("_id"),), ["pf", "pe", "pd", "pc", "pb", "pa"]),
    "last updated ascending": ((asc("_lastUpdated"),), ["pa", "pb", "pc", "pd", "pe", "pf"]),
    "newest first": ((desc("_lastUpdated"),), ["pf", "pe", "pd", "pc", "pb", "pa"]),
    "parameter then id": ((asc("given"), desc("_id")), ["pa", "pb", "pf", "pd", "pe", "pc"]),
    "unknown sort parameter keeps the default order": (
        (asc("nothing"),),
        ["pa", "pb", "pc", "pd", "pe", "pf"],
    ),
}


@pytest.mark.parametrize("case", ORDERS, ids=list(ORDERS))
def test_sort_order(people: Store, case: str) -> None:
    sort, expected = ORDERS[case]
    assert order(people, *sort) == expected


@pytest.mark.parametrize("case", ORDERS, ids=list(ORDERS))
@pytest.mark.parametrize("page_size", [1, 2, 4])
def test_paging_by_cursor_walks_the_same_order(people: Store, case: str, page_size: int) -> None:
    sort, expected = ORDERS[case]
    assert all_pages(people, None, ("Patient",), sort, page_size) == expected


def test_default_order_is_stable_and_pages_completely(people: Store) -> None:
    one_page = order(people)
    assert sorted(one_page) == sorted(p[0] for p in PEOPLE)
    assert all_pages(people, None, ("Patient",), (), 4) == one_page


def test_the_last_page_has_no_next_cursor(people: Store) -> None:
    page = search(people, None, ("Patient",), (asc("family"),), count=6)
    assert len(page.records) == 6 and page.next_cursor is None
    page = search(people, None, ("Patient",), (asc("family"),), count=5)
    assert page.next_cursor is not None


def test_inserts_between_pages_cause_no_duplicates_or_gaps(people: Store) -> None:
    sort = (asc("family"), asc("_id"))
    first = search(people, None, ("Patient",), sort, count=3)
    assert ids(first) == ["pc", "pa", "pb"]
    writer = Writer(people)
    writer.clock.ticks = 100
    writer.put("Patient", "before", person("aaa", None, None))  # sorts before the cursor
    writer.put("Patient", "zafter", person("sharma", None, None))  # sorts after it
    writer.put("Patient", "pa", person("zzz", None, None))  # seen already, moves later
    rest: list[str] = []
    cursor = first.next_cursor
    while cursor:
        page = search(people, None, ("Patient",), sort, count=2, cursor=cursor)
        rest += ids(page)
        cursor = page.next_cursor
    assert rest == ["pe", "zafter", "pa", "pf", "pd"]
    assert "before" not in rest and "pc" not in rest and "pb" not in rest


def test_deletes_between_pages_skip_the_deleted_only(people: Store) -> None:
    sort = (desc("score"),)
    first = search(people, None, ("Patient",), sort, count=2)
    assert ids(first) == ["pc", "pa"]
    Writer(people).delete("Patient", "pb")
    second = search(people, None, ("Patient",), sort, count=10, cursor=first.next_cursor)
    assert ids(second) == ["pf", "pe", "pd"]


def test_paging_with_a_filter(people: Store) -> None:
    Writer(people).put("Patient", "inactive", ResourceIndex(sorts=[SortValue("family", "b")]))
    active = Token("active", "true")
    paged = all_pages(people, active, ("Patient",), (asc("family"),), count=2)
    assert paged == ["pc", "pa", "pb", "pe", "pf", "pd"]


def test_total_is_given_only_when_asked(people: Store) -> None:
    assert search(people, None, ("Patient",), count=2).total is None
    page = search(people, None, ("Patient",), count=2, total="accurate")
    assert page.total == 6 and len(page.records) == 2
    page = search(people, Token("active", "false"), ("Patient",), total="accurate")
    assert page.total == 0 and page.records == [] and page.next_cursor is None


def test_a_page_of_zero_gives_only_the_total(people: Store) -> None:
    page = search(people, None, ("Patient",), count=0, total="accurate")
    assert page.records == [] and page.total == 6 and page.next_cursor is None


def test_a_cursor_from_another_sort_is_rejected(people: Store) -> None:
    cursor = search(people, None, ("Patient",), (), count=1).next_cursor
    with pytest.raises(FhirError) as caught:
        search(people, None, ("Patient",), (asc("family"), asc("given")), cursor=cursor)
    assert caught.value.status == 400


def test_a_garbled_cursor_is_rejected(people: Store) -> None:
    with pytest.raises(FhirError) as caught:
        search(people, None, ("Patient",), (), cursor="not-a-cursor!")
    assert caught.value.status == 400


def test_paging_a_system_level_search(people: Store) -> None:
    Writer(people).put("Observation", "o1", ResourceIndex(sorts=[SortValue("family", "kapoor")]))
    paged = all_pages(people, None, (), (asc("family"),), count=3)
    assert paged == ["pc", "o1", "pa", "pb", "pe", "pf", "pd"]
