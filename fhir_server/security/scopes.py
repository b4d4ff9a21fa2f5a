"""SMART on FHIR scopes (v1 and v2) and what each one permits.

A scope names a context (`patient`, `user`, `system`), a resource type (or `*`) and
permissions. SMART v2 writes the permissions as letters out of `cruds` (create, read,
update, delete, search); v1 wrote `read`, `write` or `*`, which mean `rs`, `cud` and
`cruds`. Other scopes (`openid`, `launch`, `offline_access`, ...) grant no data access.

`patient/` scopes grant only with a patient context (the token's `patient` claim), and
then only within that Patient's compartment (enforced by `security.facility.Visibility`
on reads and `security.patient_context` on writes); without one they grant nothing.
v2 scopes restricted by a query (`system/Observation.rs?category=laboratory`) grant read
and search on the resources the query matches (`Principal.restriction`); they grant no
create, update or delete, and no bulk export or view run.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

CONTEXTS = ("patient", "user", "system")
PERMISSIONS = "cruds"
_V1_PERMISSIONS = {"read": "rs", "write": "cud", "*": "cruds"}
_SCOPE = re.compile(
    r"^(?P<context>patient|user|system)/(?P<type>\*|[A-Z][A-Za-z]+)"
    r"\.(?P<perms>[cruds]+|read|write|\*)(?P<query>\?.*)?$"
)

# The permission each FHIR interaction needs.
INTERACTION_PERMISSION = {
    "create": "c",
    "read": "r",
    "vread": "r",
    "history-instance": "r",
    "update": "u",
    "patch": "u",
    "delete": "d",
    "search": "s",
    "history-type": "s",
    "history-system": "s",
}


@dataclass(frozen=True)
class Scope:
    context: str  # patient | user | system
    type: str  # a resource type or "*"
    permissions: frozenset[str]
    query: str | None = None  # a v2 granular restriction (`?category=laboratory`)

    def grants(self, type_: str, permission: str, patient_context: bool = False) -> bool:
        """An unrestricted grant (a query-restricted scope grants only what matches)."""
        return self.query is None and self.covers(type_, permission, patient_context)

    def covers(self, type_: str, permission: str, patient_context: bool = False) -> bool:
        return (
            (self.context != "patient" or patient_context)
            and permission in self.permissions
            and (self.type == "*" or self.type == type_)
        )


def parse_scope(text: str) -> Scope | None:
    """A resource scope, or None for a scope that grants no data access (`openid`)."""
    match = _SCOPE.match(text)
    if match is None:
        return None
    written = match["perms"]
    if written in _V1_PERMISSIONS:
        perms = _V1_PERMISSIONS[written]
    elif "".join(p for p in PERMISSIONS if p in written) == written:
        perms = written
    else:
        return None  # v2 letters appear at most once each, in `cruds` order
    return Scope(match["context"], match["type"], frozenset(perms), match["query"] or None)


@dataclass(frozen=True)
class Scopes:
    """The resource scopes of one access token."""

    scopes: tuple[Scope, ...]

    @classmethod
    def parse(cls, text: str | Iterable[str]) -> Scopes:
        words = text.split() if isinstance(text, str) else list(text)
        return cls(tuple(s for s in (parse_scope(w) for w in words) if s is not None))

    def allows(self, type_: str, permission: str, patient_context: bool = False) -> bool:
        return any(scope.grants(type_, permission, patient_context) for scope in self.scopes)

    def queries(
        self, type_: str, permission: str, patient_context: bool = False
    ) -> tuple[str, ...]:
        """The searches of the query-restricted scopes that grant `permission` on `type_`."""
        return tuple(
            s.query.lstrip("?")
            for s in self.scopes
            if s.query is not None and s.covers(type_, permission, patient_context)
        )

    def only_for_a_patient(self, type_: str, permission: str) -> bool:
        """True when only `patient/` scopes grant this: access is to one compartment."""
        return self.allows(type_, permission, patient_context=True) and not self.allows(
            type_, permission
        )


def is_valid_scope_word(text: str) -> bool:
    """Scope strings a client may register or request: resource scopes and a few others."""
    return parse_scope(text) is not None or text in ("openid", "fhirUser", "offline_access")
