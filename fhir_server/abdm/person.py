"""One person's Patient records across facilities: joined through Patient.link."""

from __future__ import annotations

import orjson

from fhir_server.storage.base import StoreSession
from fhir_server.storage.query import Reference


def linked_patients(session: StoreSession, seeds: list[str]) -> list[str]:
    """Add Patients joined through Patient.link, in both directions, transitively."""
    found = dict.fromkeys(seeds)
    frontier = list(seeds)
    while frontier:
        linked: list[str] = []
        for record in session.read_many(("Patient", pid) for pid in frontier).values():
            for link in orjson.loads(record.body).get("link") or []:
                ref = (link.get("other") or {}).get("reference", "")
                if ref.startswith("Patient/"):
                    linked.append(ref.split("/", 1)[1])
        linking = Reference("link", tuple(("Patient", p) for p in frontier))
        linked += [pid for _, pid in session.match_keys(("Patient",), linking)]
        frontier = [pid for pid in linked if pid not in found]
        found.update(dict.fromkeys(frontier))
    return list(found)
