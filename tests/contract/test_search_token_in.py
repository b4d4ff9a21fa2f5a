"""Storage contract: TokenIn (a ValueSet expansion / code hierarchy) on every adapter."""

from __future__ import annotations

import pytest

from fhir_server.storage.base import Store
from fhir_server.storage.query import And, Not, Token, TokenIn
from fhir_server.storage.records import ResourceIndex, TokenValue
from tests.contract.support import Writer, all_pages, asc, ids, search

LOINC = "http://loinc.org"
OTHER = "http://other.example/codes"


@pytest.fixture
def catalogue(store: Store) -> Store:
    writer = Writer(store)
    codes = {
        "o1": [(LOINC, "8480-6"), (None, "final")],
        "o2": [(LOINC, "8462-4"), (None, "amended")],
        "o3": [(OTHER, "8480-6"), (None, "final")],
        "o4": [(LOINC, "4548-4"), (OTHER, "x"), (None, "final")],
        "o5": [],
    }
    for id_, pairs in codes.items():
        tokens = [TokenValue("code" if s else "status", s, c) for s, c in pairs]
        writer.put("Observation", id_, ResourceIndex(tokens=tokens))
    writer.put("Condition", "c1", ResourceIndex(tokens=[TokenValue("code", LOINC, "8480-6")]))
    return store


def found(store: Store, where, types: tuple[str, ...] = ("Observation",)) -> list[str]:
    return sorted(ids(search(store, where, types)))


def test_token_in_matches_system_and_code_pairs(catalogue: Store) -> None:
    where = TokenIn("code", ((LOINC, "8480-6"), (LOINC, "8462-4")))
    assert found(catalogue, where) == ["o1", "o2"]


def test_token_in_keeps_system_and_code_together(catalogue: Store) -> None:
    # OTHER|8480-6 is o3; LOINC|x matches nobody although both parts exist somewhere
    where = TokenIn("code", ((OTHER, "8480-6"), (LOINC, "x")))
    assert found(catalogue, where) == ["o3"]


def test_token_in_over_several_systems(catalogue: Store) -> None:
    where = TokenIn("code", ((OTHER, "x"), (LOINC, "8462-4")))
    assert found(catalogue, where) == ["o2", "o4"]


def test_empty_token_in_matches_nothing(catalogue: Store) -> None:
    assert found(catalogue, TokenIn("code", ())) == []


def test_not_token_in_includes_resources_without_the_parameter(catalogue: Store) -> None:
    where = Not(TokenIn("code", ((LOINC, "8480-6"), (LOINC, "8462-4"))))
    assert found(catalogue, where) == ["o3", "o4", "o5"]


def test_token_in_with_another_predicate_and_type_scope(catalogue: Store) -> None:
    where = And((TokenIn("code", ((LOINC, "8480-6"), (OTHER, "8480-6"))), Token("status", "final")))
    assert found(catalogue, where) == ["o1", "o3"]
    assert found(catalogue, TokenIn("code", ((LOINC, "8480-6"),)), ("Condition",)) == ["c1"]


def test_large_token_in_and_paging(catalogue: Store) -> None:
    # an expansion of thousands of codes stays one predicate (no SQL depth/variable limits)
    many = (*((LOINC, f"{n}-0") for n in range(5000)), (LOINC, "8480-6"), (OTHER, "x"))
    where = TokenIn("code", many)
    assert found(catalogue, where) == ["o1", "o4"]
    assert all_pages(catalogue, where, count=1) == ["o1", "o4"]
    assert all_pages(catalogue, where, sort=[asc("_id")], count=1) == ["o1", "o4"]
