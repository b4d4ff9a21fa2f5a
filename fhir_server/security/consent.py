"""Which patients have consented to a facility reading their records (ABDM's model).

A `Consent` counts when it is `active`, its provision permits (or says nothing), its
period (if any) covers now, it names the facility as an actor (by HFR identifier or as
`Organization/<id>`), and its purpose is care (`CAREMGT`, `TREAT`, `ETREAT` or
`PATRQT`, from v3 ActReason). It covers the Patient it names and every Patient record of
the same person at other facilities: those sharing its ABHA number or address, or joined
through Patient.link. Revoking (status `inactive`/`rejected`, or deleting the Consent)
takes effect on the next request.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson

from fhir_server.abdm import abha
from fhir_server.abdm.person import linked_patients
from fhir_server.abdm.registries import HFR_SYSTEMS
from fhir_server.instants import now_utc, to_micros
from fhir_server.search.dates import date_range, zone
from fhir_server.search.subsearch import SessionSubSearch
from fhir_server.security.acting import current
from fhir_server.security.facility import Visibility
from fhir_server.security.scope_queries import record_matches
from fhir_server.storage.base import StoreSession

if TYPE_CHECKING:
    from fhir_server.rest.context import ServerContext

CARE_PURPOSES = frozenset({"CAREMGT", "TREAT", "ETREAT", "PATRQT"})
_LIMIT = 10_000  # consents naming one facility that are looked at per request


def consented_patients(ctx: ServerContext, session: StoreSession, facility: str) -> frozenset[str]:
    seeds: list[str] = []
    for criteria in (
        *(
            [("status", "active"), ("actor:identifier", f"{system}|{facility}")]
            for system in HFR_SYSTEMS
        ),
        [("status", "active"), ("actor", f"Organization/{facility}")],
    ):
        parsed = ctx.parser.parse(
            ("Consent",), criteria, strict=True, subsearch=SessionSubSearch(session, ctx.indexer)
        )
        keys = session.match_keys(("Consent",), parsed.where, limit=_LIMIT)
        for record in session.read_many(keys).values():
            patient = _granting_patient(ctx, orjson.loads(record.body), facility)
            if patient is not None:
                seeds.append(patient)
    return frozenset(_same_person(ctx, session, seeds))


def _granting_patient(ctx: ServerContext, consent: dict[str, Any], facility: str) -> str | None:
    if consent.get("status") != "active":
        return None
    provision = consent.get("provision") or {}
    if provision.get("type", "permit") != "permit":
        return None
    if not _names_actor(provision, facility) or not _care_purpose(provision):
        return None
    period = provision.get("period")
    if period and not _covers_now(ctx, period):
        return None
    reference = (consent.get("patient") or {}).get("reference", "")
    return reference.split("/", 1)[1] if reference.startswith("Patient/") else None


def _names_actor(provision: dict[str, Any], facility: str) -> bool:
    for actor in provision.get("actor") or ():
        reference = actor.get("reference") or {}
        identifier = reference.get("identifier") or {}
        if reference.get("reference") == f"Organization/{facility}":
            return True
        if identifier.get("system") in HFR_SYSTEMS and identifier.get("value") == facility:
            return True
    return False


def _care_purpose(provision: dict[str, Any]) -> bool:
    return any(p.get("code") in CARE_PURPOSES for p in provision.get("purpose") or ())


def _covers_now(ctx: ServerContext, period: dict[str, Any]) -> bool:
    tz = zone(ctx.settings.default_timezone)
    now = to_micros(now_utc())
    try:
        if period.get("start") and date_range(period["start"], tz)[0] > now:
            return False
        return not (period.get("end") and date_range(period["end"], tz)[1] < now)
    except ValueError:
        return False  # a period that cannot be read grants nothing


def _same_person(ctx: ServerContext, session: StoreSession, seeds: list[str]) -> set[str]:
    """The Patient records of the same people: shared ABHA identifiers, and Patient.link."""
    found = set(seeds)
    for record in session.read_many(("Patient", pid) for pid in seeds).values():
        for identifier in orjson.loads(record.body).get("identifier") or ():
            token = abha.canonical_token(identifier)
            if token is None:
                continue
            parsed = ctx.parser.parse(
                ("Patient",),
                [("identifier", f"{token[0]}|{token[1]}")],
                strict=True,
                subsearch=SessionSubSearch(session, ctx.indexer),
            )
            found.update(pid for _, pid in session.match_keys(("Patient",), parsed.where))
    return set(linked_patients(session, list(found)))


def visibility(ctx: ServerContext, session: StoreSession) -> Visibility:
    """The facility boundary of the current request (a no-op when it has no facility)."""
    return Visibility(
        current(),
        ctx.indexer.compartments,
        lambda facility: consented_patients(ctx, session, facility),
        lambda record, queries: record_matches(ctx, session, record, queries),
    )
