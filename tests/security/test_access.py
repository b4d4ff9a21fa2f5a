"""Every request under /fhir maps to the permissions a token must grant."""

from __future__ import annotations

import pytest

from fhir_server.security.access import request_needs

CASES = [
    ("GET", "Patient", [], [("Patient", "s")]),
    ("POST", "Patient", [], [("Patient", "c")]),
    ("PUT", "Patient", [], [("Patient", "u")]),  # conditional update
    ("DELETE", "Patient", [], [("Patient", "d")]),
    ("GET", "Patient/1", [], [("Patient", "r")]),
    ("HEAD", "Patient/1", [], [("Patient", "r")]),
    ("PUT", "Patient/1", [], [("Patient", "u")]),
    ("PATCH", "Patient/1", [], [("Patient", "u")]),
    ("DELETE", "Patient/1", [], [("Patient", "d")]),
    ("GET", "Patient/1/_history", [], [("Patient", "r")]),
    ("GET", "Patient/1/_history/2", [], [("Patient", "r")]),
    ("GET", "Patient/_history", [], [("Patient", "s")]),
    ("POST", "Patient/_search", [], [("Patient", "s")]),
    ("GET", "_history", [], [("*", "s")]),
    ("GET", "", [], [("*", "s")]),
    ("GET", "", [("_type", "Patient,Observation")], [("Patient", "s"), ("Observation", "s")]),
    ("GET", "Patient/1/Observation", [], [("Patient", "r"), ("Observation", "s")]),
    ("POST", "Patient/$validate", [], [("Patient", "r")]),
    ("GET", "Appointment/$find", [], [("Slot", "s")]),
    ("POST", "$reindex", [], [("*", "u")]),
    ("POST", "$made-up", [], [("*", p) for p in "cruds"]),  # unknown: every right
]


@pytest.mark.parametrize(("method", "path", "params", "grants"), CASES)
def test_request_needs(
    method: str, path: str, params: list[tuple[str, str]], grants: list[tuple[str, str]]
) -> None:
    needs = request_needs(method, [p for p in path.split("/") if p], params)
    assert list(needs.grants) == grants
    assert not needs.checked_inside and not needs.public


def test_bundles_and_self_checking_operations_are_checked_inside() -> None:
    assert request_needs("POST", [], []).checked_inside
    assert request_needs("GET", ["Patient", "1", "$everything"], []).checked_inside


def test_metadata_is_public() -> None:
    assert request_needs("GET", ["metadata"], []).public
