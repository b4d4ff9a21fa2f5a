"""The search IR as MongoDB filters: one `$elemMatch` per index look-up."""

from __future__ import annotations

from fhir_server.storage import mongo_query as mq
from fhir_server.storage.query import Missing, Not, Range, Reference, String, Token


def test_a_token_is_one_elem_match_led_by_the_parameter() -> None:
    assert mq.translate(Token("code", "8867-4", "http://loinc.org")) == {
        "tok": {"$elemMatch": {"p": "code", "c": "8867-4", "s": "http://loinc.org"}}
    }
    assert mq.translate(Token("code", "x", no_system=True)) == {
        "tok": {"$elemMatch": {"p": "code", "c": "x", "s": None}}
    }


def test_a_string_prefix_is_an_index_range() -> None:
    assert mq.translate(String("name", "ram")) == {
        "str": {"$elemMatch": {"p": "name", "v": {"$gte": "ram", "$lt": "ram\U0010ffff"}}}
    }


def test_range_bounds_merge_into_one_elem_match() -> None:
    predicate = Range("date", (("low", ">=", 1.0), ("low", ">=", 5.0), ("high", "<", 9.0)))
    assert mq.translate(predicate) == {
        "rng": {"$elemMatch": {"p": "date", "lo": {"$gte": 5.0}, "hi": {"$lt": 9.0}}}
    }


def test_alternatives_become_one_elem_match_each() -> None:
    predicate = Reference("subject", (("Patient", "1"), (None, "2")))
    assert mq.translate(predicate) == {
        "$or": [
            {"ref": {"$elemMatch": {"p": "subject", "ti": "1", "tt": "Patient"}}},
            {"ref": {"$elemMatch": {"p": "subject", "ti": "2"}}},
        ]
    }


def test_missing_and_not_use_nor() -> None:
    assert mq.translate(Missing("name", "string", True)) == {
        "$nor": [{"str": {"$elemMatch": {"p": "name"}}}]
    }
    assert mq.translate(Not(Token("code", "x"))) == {
        "$nor": [{"tok": {"$elemMatch": {"p": "code", "c": "x"}}}]
    }


def test_the_base_filter_scopes_to_current_resources_of_the_types() -> None:
    assert mq.base_filter(["Patient"], None) == {"deleted": False, "type": "Patient"}
    assert mq.base_filter(["A", "B"], None) == {"deleted": False, "type": {"$in": ["A", "B"]}}
    assert mq.base_filter([], None) == {"deleted": False}


def test_uri_ancestors_are_the_value_and_its_path_prefixes() -> None:
    found = mq.uri_ancestors("http://x.org/a/b")
    assert found[0] == "http://x.org/a/b"
    for ancestor in ("http://x.org/a", "http://x.org/a/", "http://x.org", "http:"):
        assert ancestor in found
    assert "http://x.org/a/b/" not in found  # a longer path is below, not above
