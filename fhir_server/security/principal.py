"""Who is calling: what an access token says about its holder, free of HTTP and JWT."""

from __future__ import annotations

from dataclasses import dataclass

from fhir_server.errors import FhirError
from fhir_server.security.scopes import Scopes


@dataclass(frozen=True)
class Principal:
    subject: str  # the token's `sub`
    client_id: str
    scopes: Scopes
    scope_text: str
    facility: str | None = None  # the facility (HFR id / Organization id) it acts for
    break_glass: bool = False  # holds the right to emergency access
    patient: str | None = None  # the patient context of `patient/` scopes
    issuer: str = ""

    def require(self, type_: str, permission: str, what: str = "") -> None:
        """403 unless a scope grants `permission` (a letter of `cruds`) on `type_`."""
        if not self.allows(type_, permission):
            raise ScopeDenied(type_, permission, what)

    def allows(self, type_: str, permission: str) -> bool:
        """Some scope grants it: unrestricted, or (read/search) for what a query matches."""
        context = self.patient is not None
        if self.scopes.allows(type_, permission, patient_context=context):
            return True
        return permission in "rs" and bool(self.scopes.queries(type_, permission, context))

    def restriction(self, type_: str, permission: str) -> tuple[str, ...] | None:
        """None when a scope grants `permission` on `type_` outright; else the searches
        (`category=laboratory`) of the query-restricted scopes that grant part of it."""
        context = self.patient is not None
        if self.scopes.allows(type_, permission, patient_context=context):
            return None
        return self.scopes.queries(type_, permission, context)

    def patient_bound(self, type_: str, permission: str) -> bool:
        """Only a `patient/` scope grants this: it reaches the token patient's records only."""
        return self.patient is not None and self.scopes.only_for_a_patient(type_, permission)


_NAMES = {"c": "create", "r": "read", "u": "update", "d": "delete", "s": "search"}


class ScopeDenied(FhirError):
    def __init__(self, type_: str, permission: str, what: str = "") -> None:
        action = _NAMES.get(permission, permission)
        where = f" ({what})" if what else ""
        super().__init__(
            403,
            "forbidden",
            f"The access token's scopes do not allow {action} on {type_}{where}",
        )
        self.type = type_
        self.permission = permission
