"""Loading seed bundles: every entry is an update by id, so loading twice changes nothing."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import orjson

from fhir_server.errors import FhirError
from fhir_server.rest.context import ServerContext
from fhir_server.rest.update import update


@dataclass
class SeedSummary:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


def load_seed_folder(ctx: ServerContext, folder: Path) -> SeedSummary:
    summary = SeedSummary()
    files = sorted(folder.glob("*.json"))
    if not files:
        raise FhirError(404, "not-found", f"No seed bundles (*.json) in {folder}")
    for path in files:
        bundle = orjson.loads(path.read_bytes())
        for entry in bundle.get("entry", []):
            resource = entry["resource"]
            before = _version(ctx, resource["resourceType"], resource["id"])
            result = update(ctx, resource["resourceType"], resource["id"], resource)
            assert result.record is not None
            if before is None:
                summary.created += 1
            elif result.record.version == before:
                summary.unchanged += 1
            else:
                summary.updated += 1
    return summary


def _version(ctx: ServerContext, type_: str, id_: str) -> int | None:
    with ctx.store.session() as session:
        record = session.read(type_, id_)
    return None if record is None or record.deleted else record.version
