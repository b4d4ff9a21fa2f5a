"""SMART v1 and v2 scopes: what each grants, and what is refused."""

from __future__ import annotations

import pytest

from fhir_server.security.scopes import Scopes, is_valid_scope_word, parse_scope

# (scope, type, permission, granted)
CASES = [
    ("system/Patient.rs", "Patient", "r", True),
    ("system/Patient.rs", "Patient", "s", True),
    ("system/Patient.rs", "Patient", "c", False),
    ("system/Patient.rs", "Observation", "r", False),
    ("system/*.cruds", "Claim", "d", True),
    ("user/*.cruds", "Encounter", "u", True),
    ("system/Observation.c", "Observation", "c", True),
    ("system/Observation.c", "Observation", "r", False),
    ("system/*.read", "Observation", "r", True),  # v1 read = rs
    ("system/*.read", "Observation", "s", True),
    ("system/*.read", "Observation", "c", False),
    ("user/*.write", "Patient", "c", True),  # v1 write = cud
    ("user/*.write", "Patient", "u", True),
    ("user/*.write", "Patient", "d", True),
    ("user/*.write", "Patient", "r", False),
    ("system/Patient.*", "Patient", "s", True),  # v1 * = cruds
    # patient/ scopes need a patient-compartment launch this server does not offer yet
    ("patient/Observation.rs", "Observation", "r", False),
    # query-restricted v2 scopes grant nothing until the restriction is enforced
    ("system/Observation.rs?category=laboratory", "Observation", "r", False),
    ("openid", "Patient", "r", False),
]


@pytest.mark.parametrize(("scope", "type_", "permission", "granted"), CASES)
def test_scope_grants_exactly_what_it_names(
    scope: str, type_: str, permission: str, granted: bool
) -> None:
    assert Scopes.parse(scope).allows(type_, permission) is granted


@pytest.mark.parametrize(
    "bad",
    ["system/Patient.sr", "system/Patient.rr", "system/patient.rs", "admin/*.rs", "system/*.x"],
)
def test_malformed_scopes_grant_nothing(bad: str) -> None:
    assert parse_scope(bad) is None
    assert not is_valid_scope_word(bad)
    assert not Scopes.parse(bad).allows("Patient", "r")


def test_several_scopes_add_up() -> None:
    scopes = Scopes.parse("system/Patient.r system/Observation.cs openid")
    assert scopes.allows("Patient", "r")
    assert scopes.allows("Observation", "c")
    assert scopes.allows("Observation", "s")
    assert not scopes.allows("Observation", "r")
    assert not scopes.allows("Patient", "s")
