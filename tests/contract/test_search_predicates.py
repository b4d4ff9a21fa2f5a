"""Storage contract: every predicate of the search IR selects the same resources everywhere.

One small catalogue of Observations (plus a Condition and a Patient for type scoping)
with hand-made index values; each case names the ids it must find, in any order.
"""

from __future__ import annotations

import pytest

from fhir_server.instants import to_micros
from fhir_server.storage.base import Store
from fhir_server.storage.query import (
    And,
    Composite,
    IdIn,
    InCompartment,
    LastUpdated,
    Missing,
    Not,
    Nothing,
    Or,
    Predicate,
    Range,
    Reference,
    String,
    Token,
    TokenText,
    Uri,
)
from fhir_server.storage.records import (
    CompositeValue,
    QuantityValue,
    RangeValue,
    ReferenceValue,
    ResourceIndex,
    StringValue,
    TokenValue,
    UriValue,
)
from tests.contract.support import Writer, ids, moment, search

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
STATUS = "http://hl7.org/fhir/observation-status"
VS = "http://example.org/fhir/ValueSet"

O1 = ResourceIndex(
    tokens=[
        TokenValue("code", LOINC, "8867-4", "heart rate"),
        TokenValue("status", None, "final"),
    ],
    strings=[StringValue("name", "ramesh kumar", "Ramesh Kumar")],
    ranges=[RangeValue("date", 100.0, 199.0)],
    quantities=[QuantityValue("value-quantity", UCUM, "/min", "beats/min", 72.0, 72.0)],
    references=[ReferenceValue("subject", "Patient", "p1")],
    uris=[UriValue("url", f"{VS}/a")],
    composites=[CompositeValue("code-value", (f"{LOINC}|8867-4",), 72.0, 72.0)],
    compartments=["p1"],
)
O2 = ResourceIndex(
    tokens=[
        TokenValue("code", LOINC, "8310-5", "body temperature"),
        TokenValue("status", STATUS, "amended"),
    ],
    strings=[StringValue("name", "sita devi", "Sita Devi")],
    ranges=[RangeValue("date", 200.0, 299.0)],
    quantities=[QuantityValue("value-quantity", UCUM, "Cel", "°C", 37.5, 37.5)],
    references=[
        ReferenceValue("subject", "Patient", "p2"),
        ReferenceValue("performer", None, None, "https://other.example/Practitioner/9"),
    ],
    uris=[UriValue("url", f"{VS}/a/b")],
    composites=[CompositeValue("code-value", (f"{LOINC}|8310-5",), 37.5, 37.5)],
    compartments=["p2"],
)
O3 = ResourceIndex(  # sparse: most parameters missing, an open-ended date
    tokens=[TokenValue("code", "http://other.example/codes", "8867-4", "pulse rate")],
    ranges=[RangeValue("date", None, 150.0)],
    quantities=[QuantityValue("value-quantity", None, None, "/min", 60.0, 60.0)],
    references=[ReferenceValue("subject", "Group", "p1")],
)
ALL = ["o1", "o2", "o3"]


@pytest.fixture
def catalogue(store: Store) -> Store:
    writer = Writer(store)
    writer.put("Observation", "o1", O1)  # at moment(1)
    writer.put("Observation", "o2", O2)  # moment(2)
    writer.put("Observation", "o3", O3)  # moment(3)
    writer.put("Observation", "o4", O1)  # deleted below: must never be found
    writer.put("Condition", "c1", ResourceIndex(tokens=[TokenValue("code", LOINC, "8867-4")]))
    writer.put("Patient", "p1", ResourceIndex(compartments=["p1"]))
    writer.delete("Observation", "o4")
    return store


def found(store: Store, where: Predicate | None, types: tuple[str, ...] = ("Observation",)):
    return sorted(ids(search(store, where, types)))


CASES: dict[str, tuple[Predicate, list[str]]] = {
    # token
    "token code in any system": (Token("code", "8867-4"), ["o1", "o3"]),
    "token system and code": (Token("code", "8867-4", LOINC), ["o1"]),
    "token code without a system": (Token("status", "final", no_system=True), ["o1"]),
    "token code without a system skips coded ones": (
        Token("status", "amended", no_system=True),
        [],
    ),
    "token any code of a system": (Token("code", None, LOINC), ["o1", "o2"]),
    "token unknown code": (Token("code", "0000-0"), []),
    # token :text
    "token text matches a word prefix": (TokenText("code", "rat"), ["o1", "o3"]),
    "token text matches the start": (TokenText("code", "hea"), ["o1"]),
    "token text does not match inside a word": (TokenText("code", "eart"), []),
    "token text spans words": (TokenText("code", "body temp"), ["o2"]),
    # string
    "string starts with": (String("name", "sit"), ["o2"]),
    "string start is not a word search": (String("name", "kumar"), []),
    "string contains": (String("name", "esh ku", "contains"), ["o1"]),
    "string contains takes regex characters literally": (String("name", ".", "contains"), []),
    "string contains takes like wildcards literally": (String("name", "%", "contains"), []),
    "string exact is case sensitive": (String("name", "Sita Devi", "exact"), ["o2"]),
    "string exact does not match normalised": (String("name", "sita devi", "exact"), []),
    # range (date / number)
    "range overlapping a point": (
        Range("date", (("high", ">=", 150.0), ("low", "<=", 150.0))),
        ["o1", "o3"],
    ),
    "range starting after": (Range("date", (("low", ">", 150.0),)), ["o2"]),
    "range ending strictly before": (Range("date", (("high", "<", 150.0),)), []),
    "range ending at or before": (Range("date", (("high", "<=", 150.0),)), ["o3"]),
    "range open low end is minus infinity": (Range("date", (("low", "<", -1e300),)), ["o3"]),
    "range repeated bound keeps the tighter": (
        Range("date", (("low", ">=", 100.0), ("low", ">=", 200.0))),
        ["o2"],
    ),
    # quantity
    "quantity by value only": (
        Range("value-quantity", (("low", ">=", 70.0), ("high", "<=", 80.0)), "quantity"),
        ["o1"],
    ),
    "quantity with system and code": (
        Range("value-quantity", (("low", ">=", 0.0),), "quantity", UCUM, "/min"),
        ["o1"],
    ),
    "quantity code without system matches code or unit": (
        Range("value-quantity", (("low", ">=", 0.0),), "quantity", None, "/min"),
        ["o1", "o3"],
    ),
    "quantity unit text without system": (
        Range("value-quantity", (("low", ">=", 0.0),), "quantity", None, "beats/min"),
        ["o1"],
    ),
    "quantity system alone": (
        Range("value-quantity", (("low", ">=", 0.0),), "quantity", UCUM),
        ["o1", "o2"],
    ),
    "quantity bounds and code hold on one value": (
        Range("value-quantity", (("low", ">=", 70.0),), "quantity", UCUM, "Cel"),
        [],
    ),
    # reference
    "reference typed target": (Reference("subject", (("Patient", "p1"),)), ["o1"]),
    "reference untyped target": (Reference("subject", ((None, "p1"),)), ["o1", "o3"]),
    "reference any of several targets": (
        Reference("subject", (("Patient", "p1"), ("Patient", "p2"))),
        ["o1", "o2"],
    ),
    "reference type and id hold on one value": (
        Reference("subject", (("Group", "p2"),)),
        [],
    ),
    "reference absolute url": (
        Reference("performer", url="https://other.example/Practitioner/9"),
        ["o2"],
    ),
    "reference with no target matches nothing": (Reference("subject"), []),
    # uri
    "uri equals": (Uri("url", f"{VS}/a"), ["o1"]),
    "uri below": (Uri("url", f"{VS}/a", "below"), ["o1", "o2"]),
    "uri below ignores a trailing slash": (Uri("url", f"{VS}/a/", "below"), ["o1", "o2"]),
    "uri below a parent path": (Uri("url", VS, "below"), ["o1", "o2"]),
    "uri below is path based": (Uri("url", f"{VS}/", "below"), ["o1", "o2"]),
    "uri below does not match a longer segment": (Uri("url", f"{VS}/ab", "below"), []),
    "uri above": (Uri("url", f"{VS}/a/b/c", "above"), ["o1", "o2"]),
    "uri above includes the value itself": (Uri("url", f"{VS}/a", "above"), ["o1"]),
    "uri above is path based": (Uri("url", f"{VS}/abc", "above"), []),
    "uri above is case sensitive": (Uri("url", f"{VS}/A/b", "above"), []),
    # composite
    "composite keys": (Composite("code-value", (f"{LOINC}|8867-4",)), ["o1"]),
    "composite keys and value bound": (
        Composite("code-value", (f"{LOINC}|8867-4",), (("low", ">=", 70.0),)),
        ["o1"],
    ),
    "composite value bound on the same value": (
        Composite("code-value", (f"{LOINC}|8867-4",), (("low", ">=", 80.0),)),
        [],
    ),
    # missing
    "missing string": (Missing("name", "string", True), ["o3"]),
    "present string": (Missing("name", "string", False), ["o1", "o2"]),
    "missing token": (Missing("status", "token", True), ["o3"]),
    "missing reference": (Missing("performer", "reference", True), ["o1", "o3"]),
    "present range": (Missing("date", "range", False), ALL),
    "present quantity": (Missing("value-quantity", "quantity", False), ALL),
    "missing uri": (Missing("url", "uri", True), ["o3"]),
    "missing composite": (Missing("code-value", "composite", True), ["o3"]),
    "missing unknown parameter": (Missing("nothing-here", "token", True), ALL),
    # record fields
    "id in": (IdIn(("o1", "o3", "o4", "unknown")), ["o1", "o3"]),
    "id in nothing": (IdIn(()), []),
    "last updated from": (
        LastUpdated((("low", ">=", float(to_micros(moment(2)))),)),
        ["o2", "o3"],
    ),
    "last updated before": (LastUpdated((("high", "<", float(to_micros(moment(2)))),)), ["o1"]),
    "last updated within": (
        LastUpdated(
            (("low", ">", float(to_micros(moment(1)))), ("high", "<=", float(to_micros(moment(2)))))
        ),
        ["o2"],
    ),
    "in compartment": (InCompartment(("p1",)), ["o1"]),
    "in any of several compartments": (InCompartment(("p1", "p2", "p9")), ["o1", "o2"]),
    "in no compartment": (InCompartment(()), []),
    # combinators
    "not": (Not(Token("code", "8867-4")), ["o2"]),
    "not missing": (Not(Missing("name", "string", True)), ["o1", "o2"]),
    "or": (Or((Token("code", "8310-5"), String("name", "ram"))), ["o1", "o2"]),
    "and": (
        And((Token("code", "8867-4"), Not(Reference("subject", (("Patient", "p1"),))))),
        ["o3"],
    ),
    "empty or matches nothing": (Or(()), []),
    "empty and matches everything": (And(()), ALL),
    "not of an empty or matches everything": (Not(Or(())), ALL),
    "nested and or not": (
        Or(
            (
                And((Token("code", "8867-4"), Range("date", (("low", "<", 0.0),)))),
                Not(Or((IdIn(("o1",)), IdIn(("o3",))))),
            )
        ),
        ["o2", "o3"],
    ),
    "not inside and inside not": (
        Not(And((Token("code", "8867-4"), Not(InCompartment(("p1",)))))),
        ["o1", "o2"],
    ),
    "nothing": (Nothing(), []),
    "not nothing": (Not(Nothing()), ALL),
    "no predicate": (And((And(()), Or((And(()),)))), ALL),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_predicate_selects_exactly_the_expected_resources(catalogue: Store, case: str) -> None:
    predicate, expected = CASES[case]
    assert found(catalogue, predicate) == expected


def test_no_predicate_selects_every_current_resource_of_the_type(catalogue: Store) -> None:
    assert found(catalogue, None) == ALL


def test_a_search_over_several_types_spans_them(catalogue: Store) -> None:
    code = Token("code", "8867-4")
    assert found(catalogue, code, ("Observation", "Condition")) == ["c1", "o1", "o3"]
    assert found(catalogue, code, ("Condition",)) == ["c1"]


def test_a_system_level_search_spans_every_type(catalogue: Store) -> None:
    assert found(catalogue, Token("code", "8867-4"), ()) == ["c1", "o1", "o3"]
    assert found(catalogue, InCompartment(("p1",)), ()) == ["o1", "p1"]


def test_a_typed_id_set_matches_only_that_type(catalogue: Store) -> None:
    # `_list` in a system search: p1 listed as a Patient must not bring other p1s along
    typed = Or((IdIn(("p1", "o1"), "Patient"), IdIn(("c1",), "Condition")))
    assert found(catalogue, typed, ()) == ["c1", "p1"]
    assert found(catalogue, IdIn(("o1", "o2"), "Observation"), ()) == ["o1", "o2"]
    assert found(catalogue, IdIn(("o1",), "Patient"), ()) == []


def test_count_and_match_keys_agree_with_search(catalogue: Store) -> None:
    code = Token("code", "8867-4")
    with catalogue.session() as session:
        assert session.count(["Observation"], code) == 2
        assert session.count(["Observation"], None) == 3
        assert session.count([], code) == 3
        keys = session.match_keys(["Observation", "Condition"], code)
        assert sorted(keys) == [("Condition", "c1"), ("Observation", "o1"), ("Observation", "o3")]
        assert len(session.match_keys(["Observation"], code, limit=1)) == 1


def test_referenced_keys_lists_typed_targets_of_the_matches(catalogue: Store) -> None:
    with catalogue.session() as session:
        keys = session.referenced_keys(["Observation"], None, "subject")
        assert sorted(keys) == [("Group", "p1"), ("Patient", "p1"), ("Patient", "p2")]
        assert session.referenced_keys(["Observation"], IdIn(("o2",)), "performer") == []
        assert session.referenced_keys(["Observation"], IdIn(("o2",)), "subject") == [
            ("Patient", "p2")
        ]
