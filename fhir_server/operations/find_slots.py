"""Appointment/$find: the free Slots of a doctor, a service or a facility in a date range.

A thin wrapper over Slot search, for clients that know a Practitioner but not which
Schedules carry them: a doctor's Schedule usually names their PractitionerRole at a
facility (as in the seeded network), so `practitioner` also matches the Schedules of
every PractitionerRole of that Practitioner. The answer is the Slot searchset, sorted by
start; its next links page on as a plain Slot search.

    GET [base]/Appointment/$find?practitioner=prac-meera&start=2026-12-01&end=2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fhir_server.errors import FhirError
from fhir_server.operations.registry import Operation, register
from fhir_server.rest import search as search_
from fhir_server.rest.context import RequestInfo, ServerContext
from fhir_server.rest.results import InteractionResult
from fhir_server.rest.versioning import check_id
from fhir_server.storage.query import Reference

# $find parameter -> the Schedule.actor type it names
ACTOR_PARAMS = {
    "practitioner": "Practitioner",
    "service": "HealthcareService",
    "location": "Location",
}
_PASSED_ON = ("_count", "_cursor")


def run_find(
    ctx: ServerContext,
    request: RequestInfo,
    type_: str | None,
    id_: str | None,
    params: Sequence[tuple[str, str]],
    body: Any,
) -> InteractionResult:
    criteria: list[tuple[str, str]] = [("status", "free")]
    named = False
    for name, value in params:
        if name in ACTOR_PARAMS:
            actors = _actors(ctx, ACTOR_PARAMS[name], _local_id(name, value))
            # repeated schedule.actor criteria AND: a doctor's Slots at one Location
            criteria.append(("schedule.actor", ",".join(actors)))
            named = True
        elif name == "start":
            criteria.append(("start", f"ge{value}"))
        elif name == "end":
            criteria.append(("start", f"le{value}"))
        elif name in _PASSED_ON:
            criteria.append((name, value))
        else:
            raise FhirError(400, "not-supported", f"$find has no parameter {name!r}", [name])
    if not named:
        raise FhirError(
            400,
            "required",
            "$find needs practitioner, service or location (an id)",
            list(ACTOR_PARAMS),
        )
    criteria.append(("_sort", "start"))
    return search_.search(ctx, request, ("Slot",), criteria)


def _local_id(name: str, value: str) -> str:
    """`prac-meera` or `Practitioner/prac-meera`: the id either way."""
    prefix = f"{ACTOR_PARAMS[name]}/"
    return check_id(value.removeprefix(prefix), name)


def _actors(ctx: ServerContext, type_: str, id_: str) -> list[str]:
    actors = [f"{type_}/{id_}"]
    if type_ == "Practitioner":
        with ctx.store.session() as session:
            roles = session.match_keys(
                ("PractitionerRole",), Reference("practitioner", (("Practitioner", id_),))
            )
        actors += [f"PractitionerRole/{role_id}" for _, role_id in sorted(roles)]
    return actors


OPERATION = register(
    Operation(
        name="find",
        levels=frozenset({"type"}),
        types=frozenset({"Appointment"}),
        handler=run_find,
        definition_url="urn:fhir-server:OperationDefinition/Appointment-find",
        documentation=(
            "Free Slots, soonest first, of a practitioner (also through their"
            " PractitionerRoles), a HealthcareService or a Location, by id; start and end"
            " bound Slot.start (dates, inclusive); _count. A wrapper over"
            " Slot?schedule.actor=...&status=free."
        ),
    )
)
