"""Referential integrity: a relative reference must name a resource on this server.

Absolute references (another server), contained (`#id`), logical (identifier-only) and
canonical references are not checked, nor the entries of a stored Bundle (a document or
collection is a snapshot whose references resolve against its own fullUrls). The policy
`FHIR_REFERENTIAL_INTEGRITY=off` accepts dangling references (e.g. while migrating data
in any order).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from fhir_server.errors import FhirError, Issue
from fhir_server.storage.base import StoreSession
from fhir_server.storage.records import StoredRecord
from fhir_server.validation.resource_types import R4_RESOURCE_TYPES
from fhir_server.workflows.rules import write_rule

if TYPE_CHECKING:
    from fhir_server.rest.context import ServerContext

_MAX_REPORTED = 10


def local_references(value: Any, path: str) -> Iterator[tuple[str, tuple[str, str]]]:
    """(element path, (type, id)) of every relative `Type/id` reference in a resource."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "contained":
                continue  # contained resources' references are checked with their own ids
            if key == "reference" and isinstance(item, str):
                target = _relative_target(item)
                if target is not None:
                    yield f"{path}.reference", target
            else:
                yield from local_references(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from local_references(item, f"{path}[{index}]")


def _reference_strings(resource: dict[str, Any]) -> list[str]:
    """Every `reference` string outside contained resources (the fast path: no paths).

    Iterative, since this runs on every write and recursion with generators costs
    several times more on resources with hundreds of elements.
    """
    found: list[str] = []
    stack: list[Any] = [resource]
    while stack:
        value = stack.pop()
        if type(value) is dict:
            for key, item in value.items():
                kind = type(item)
                if kind is dict or kind is list:
                    if key != "contained":
                        stack.append(item)
                elif key == "reference" and kind is str:
                    found.append(item)
        else:
            stack.extend(item for item in value if type(item) in (dict, list))
    return found


def _relative_target(reference: str) -> tuple[str, str] | None:
    if "?" in reference or ":" in reference or reference.startswith("#"):
        return None
    parts = reference.split("/")
    if len(parts) == 4 and parts[2] == "_history":
        parts = parts[:2]
    if len(parts) != 2 or parts[0] not in R4_RESOURCE_TYPES or not parts[1]:
        return None
    return parts[0], parts[1]


@write_rule()
def references_must_exist(
    ctx: ServerContext,
    session: StoreSession,
    resource: dict[str, Any],
    current: StoredRecord | None,
) -> None:
    if ctx.settings.referential_integrity != "enforce":
        return
    own = (resource["resourceType"], resource.get("id"))
    if own[0] == "Bundle":
        # only Bundle.link and the like remain; the entries are the Bundle's own business
        resource = {k: v for k, v in resource.items() if k != "entry"}
    targets = {_relative_target(reference) for reference in _reference_strings(resource)}
    # a transaction's session knows what the Bundle itself is writing (forward references)
    # and which targets an earlier entry already found (a session reads one state of the
    # store, which only the session itself could change; it forgets what it deletes)
    planned = getattr(session, "planned", frozenset())
    confirmed = getattr(session, "confirmed", None)
    wanted = targets - planned - {None, own}
    if confirmed:
        wanted -= confirmed
    if not wanted:
        return
    found = session.read_many(wanted).keys()  # type: ignore[arg-type]
    if confirmed is not None:
        confirmed.update(found)
    absent = wanted - found
    if not absent:
        return
    # only a refusal pays for the element paths
    found = local_references(resource, resource["resourceType"])
    missing = [(path, target) for path, target in found if target in absent]
    issues = [
        Issue(
            "error",
            "not-found",
            f"{target[0]}/{target[1]} does not exist on this server",
            [path],
        )
        for path, target in missing[:_MAX_REPORTED]
    ]
    raise FhirError(
        422,
        "processing",
        "",
        issues=issues,
    )
