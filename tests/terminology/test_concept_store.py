"""The concept store port on every adapter (SQLite, MongoDB over mongomock, real MongoDB
when MONGODB_URI is set): bulk load, look-up, word-prefix search, is-a closure."""

from __future__ import annotations

from pathlib import Path

from fhir_server.storage.base import Store
from fhir_server.terminology.loaders.common import concept, load_system
from fhir_server.terminology.loaders.icd10 import load_icd10
from fhir_server.terminology.loaders.snomed import load_snomed

DATA = Path(__file__).parent / "data"
SCT = "http://snomed.info/sct"


def test_snomed_load_lookup_and_hierarchy(store: Store) -> None:
    concepts = store.terminology  # type: ignore[attr-defined]
    phases: list[str] = []
    result = load_snomed(concepts, DATA / "rf2", "20240101", lambda p, n: phases.append(p))
    assert result.concepts == 7 and phases[-1] == "done"
    assert [(s.url, s.version, s.count) for s in concepts.systems()] == [(SCT, "20240101", 7)]
    found = concepts.lookup(SCT, "44054006")
    assert found.display == "Diabetes mellitus type 2" and found.parents == ("73211009",)
    assert concepts.lookup(SCT, "11111111") is None
    assert set(concepts.descendants(SCT, "73211009")) == {"73211009", "44054006", "46635009"}
    assert set(concepts.ancestors(SCT, "44054006")) == {
        "44054006", "73211009", "64572001", "404684003", "138875005",
    }  # fmt: skip
    assert concepts.subsumes(SCT, "64572001", "44054006")
    assert not concepts.subsumes(SCT, "44054006", "64572001")
    assert concepts.count_below(SCT, "64572001") == 5
    assert concepts.count_below(SCT, None) == 7
    assert set(concepts.lookup_many(SCT, ["73211009", "38341003", "nope"])) == {
        "73211009", "38341003",
    }  # fmt: skip


def test_word_prefix_search_with_paging_and_below(store: Store) -> None:
    concepts = store.terminology  # type: ignore[attr-defined]
    load_snomed(concepts, DATA / "rf2", None)
    page = concepts.search(SCT, ["diab", "mel"], None, 0, 10)
    assert page.total == 3
    # shortest display first, then by display ("... type 1" before "... type 2")
    assert [c.code for c in page.concepts] == ["73211009", "46635009", "44054006"]
    assert [c.code for c in concepts.search(SCT, ["diab"], None, 1, 1).concepts] == ["46635009"]
    assert concepts.search(SCT, ["high", "press"], None, 0, 5).concepts[0].code == "38341003"
    below = concepts.search(SCT, ["diab"], "44054006", 0, 10)
    assert below.total == 1 and below.concepts[0].code == "44054006"
    assert concepts.search(SCT, ["zzz"], None, 0, 10).total == 0
    assert concepts.search(SCT, [], "73211009", 0, 0).total == 3


def test_reloading_replaces_a_system(store: Store) -> None:
    concepts = store.terminology  # type: ignore[attr-defined]
    url = "http://example.org/cs"
    load_system(
        concepts, url, "1", None, [concept("a", "Alpha"), concept("b", "Beta", parents=("a",))]
    )
    load_system(concepts, url, "2", None, [concept("c", "Gamma")])
    assert concepts.lookup(url, "a") is None and concepts.lookup(url, "c").display == "Gamma"
    assert concepts.search(url, ["alp"], None, 0, 5).total == 0
    assert [(s.version, s.count) for s in concepts.systems()] == [("2", 1)]
    concepts.drop_system(url)
    assert concepts.systems() == []


def test_icd10_file_into_the_store(store: Store) -> None:
    concepts = store.terminology  # type: ignore[attr-defined]
    load_icd10(concepts, DATA / "icd10.tsv", "2019")
    url = "http://hl7.org/fhir/sid/icd-10"
    assert set(concepts.descendants(url, "IV")) == {"IV", "E10-E14", "E10", "E11", "E11.9"}
