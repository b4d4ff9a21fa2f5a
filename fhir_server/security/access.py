"""What a FHIR request needs a token to allow, read from its method and path alone.

Every request under /fhir is classified before it reaches its route: the permission
(`cruds`) it needs on which resource types. Requests whose needs depend on their
content (Bundles, whose entries are checked one by one, and operations that check their
own inputs and outputs) are marked `checked_inside`, and their interaction checks them
with the same `Principal.require` before anything is read or written.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

ALL_TYPES = "*"

# Operations that check their inputs and outputs themselves (they receive the principal).
SELF_CHECKING_OPERATIONS = frozenset({"everything", "export", "run"})

# The permission other operations need on the type they are called on (or on the named
# type at system level); an operation not listed needs every permission on every type.
OPERATION_NEEDS: dict[str, tuple[str | None, str]] = {
    "validate": (None, "r"),
    "find": ("Slot", "s"),
    "book": ("Appointment", "c"),
    "reindex": (ALL_TYPES, "u"),
    "lookup": ("CodeSystem", "r"),
    "subsumes": ("CodeSystem", "r"),
    "expand": ("ValueSet", "r"),
    "validate-code": (None, "r"),
    "translate": ("ConceptMap", "r"),
    # many types in: the broadest rights until it checks entry by entry
    "ingest-document": (ALL_TYPES, "cu"),
}


@dataclass(frozen=True)
class Needs:
    """(resource type, permission) pairs a token must grant, or a check left inside."""

    grants: tuple[tuple[str, str], ...] = ()
    checked_inside: bool = False
    public: bool = False  # /metadata needs no token
    interaction: str = ""  # for the audit record: read, search, create, operation, ...


def request_needs(method: str, parts: Sequence[str], params: Sequence[tuple[str, str]]) -> Needs:
    """`parts` are the path segments after /fhir (`["Patient", "123", "_history"]`)."""
    read = method in ("GET", "HEAD")
    n = len(parts)
    if n == 0:
        if read:
            types = _listed_types(params) or (ALL_TYPES,)
            return Needs(tuple((t, "s") for t in types), interaction="search-system")
        return Needs(checked_inside=True, interaction="transaction")
    first = parts[0]
    if first == "metadata":
        return Needs(public=True, interaction="capabilities")
    if first.startswith("$"):
        return _operation(first[1:], None)
    if first in ("bulk-status", "bulk-files"):
        # an export's status and files: only the client that started it gets an answer
        return Needs(interaction="operation:export")
    if first == "_history":
        return Needs(((ALL_TYPES, "s"),), interaction="history-system")
    if n == 1:
        return _type_level(method, first)
    second = parts[1]
    if second.startswith("$"):
        return _operation(second[1:], first)
    if second == "_search":
        return Needs(((first, "s"),), interaction="search-type")
    if second == "_history":
        return Needs(((first, "s"),), interaction="history-type")
    if n == 2:
        return _instance_level(method, first)
    third = parts[2]
    if third.startswith("$"):
        return _operation(third[1:], first)
    if third == "_history":
        return Needs(((first, "r"),), interaction="vread" if n > 3 else "history-instance")
    # a compartment search: Patient/123/Observation
    return Needs(((first, "r"), (third, "s")), interaction="search-compartment")


def _type_level(method: str, type_: str) -> Needs:
    permission, interaction = {
        "GET": ("s", "search-type"),
        "HEAD": ("s", "search-type"),
        "POST": ("c", "create"),
        "PUT": ("u", "update"),
        "PATCH": ("u", "patch"),
        "DELETE": ("d", "delete"),
    }.get(method, ("cruds", method.lower()))
    return Needs(tuple((type_, p) for p in permission), interaction=interaction)


def _instance_level(method: str, type_: str) -> Needs:
    permission, interaction = {
        "GET": ("r", "read"),
        "HEAD": ("r", "read"),
        "PUT": ("u", "update"),
        "PATCH": ("u", "patch"),
        "DELETE": ("d", "delete"),
    }.get(method, ("cruds", method.lower()))
    return Needs(tuple((type_, p) for p in permission), interaction=interaction)


def _operation(name: str, type_: str | None) -> Needs:
    if name in SELF_CHECKING_OPERATIONS:
        return Needs(checked_inside=True, interaction=f"operation:{name}")
    on_type, permission = OPERATION_NEEDS.get(name, (ALL_TYPES, "cruds"))
    target = on_type or type_ or ALL_TYPES
    return Needs(tuple((target, p) for p in permission), interaction=f"operation:{name}")


def _listed_types(params: Sequence[tuple[str, str]]) -> tuple[str, ...]:
    return tuple(
        t.strip() for key, value in params if key == "_type" for t in value.split(",") if t.strip()
    )
