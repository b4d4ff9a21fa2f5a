"""`patient/` scopes: a token with a patient context reaches that Patient's compartment only.

Reads are filtered by `security.facility.Visibility`; searches get the compartment as a
query predicate (so paging and totals count only what the token may see); writes and
deletes must stay inside the compartment.
"""

from __future__ import annotations

from collections.abc import Sequence

from fhir_server.errors import FhirError
from fhir_server.security.acting import current_principal
from fhir_server.storage.query import InCompartment


def patient_compartment(types: Sequence[str]) -> InCompartment | None:
    """The compartment a search is limited to, when patient/ scopes alone allow it."""
    principal = current_principal()
    if principal is None or principal.patient is None or not types:
        return None
    if all(principal.patient_bound(t, "s") for t in types):
        return InCompartment((principal.patient,))
    return None


def check_patient_write(type_: str, compartments: Sequence[str], permission: str) -> None:
    principal = current_principal()
    if principal is None or not principal.patient_bound(type_, permission):
        return
    if principal.patient not in compartments:
        raise FhirError(
            403,
            "forbidden",
            f"This {type_} is outside the compartment of the access token's patient"
            f" (Patient/{principal.patient}); patient/ scopes reach that patient only",
        )


def check_create_right(type_: str) -> None:
    """A write that creates (update-as-create, a conditional update with no match) needs
    `c` too: the gate saw a PUT and asked only for `u`."""
    principal = current_principal()
    if principal is not None:
        principal.require(type_, "c", "update that creates")
