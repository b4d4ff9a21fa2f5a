"""Loading seed bundles: every entry is a PUT by id, so loading twice changes nothing.

Each file is a transaction Bundle and goes through the same path as `POST /fhir` (one
store session per Bundle, one bulk write), which loads
the whole sample network in seconds. An update whose content equals the stored version
writes no new version, so a second run reports every entry unchanged. Files are loaded
in name order (01-..., 02-...), so a file may refer to resources of the files before it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from fhir_server.errors import FhirError
from fhir_server.rest.bundle_post import process_bundle
from fhir_server.rest.context import RequestInfo, ServerContext
from fhir_server.rest.update import update

SEED_BASE = "urn:fhir-server:seed"  # base URL of the internal request (never shown)
# example SQL on FHIR ViewDefinitions over the seed network's shape, loaded with it
VIEWS_DIR = Path(__file__).resolve().parents[1] / "views"


@dataclass
class SeedSummary:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    files: int = 0
    views: int = 0  # example ViewDefinitions put (not counted in created/updated/unchanged)

    def add(self, before: int | None, after: int) -> None:
        if before is None:
            self.created += 1
        elif before == after:
            self.unchanged += 1
        else:
            self.updated += 1


def seed_files(folder: Path) -> list[Path]:
    """The Bundles `seed` loads: *.json directly in the folder, in name order."""
    return sorted(p for p in folder.glob("*.json") if p.is_file())


def load_seed_folder(
    ctx: ServerContext, folder: Path, views: Path | None = VIEWS_DIR
) -> SeedSummary:
    summary = SeedSummary()
    files = seed_files(folder)
    if not files:
        raise FhirError(404, "not-found", f"No seed bundles (*.json) in {folder}")
    for path in files:
        bundle = orjson.loads(path.read_bytes())
        if bundle.get("type") == "transaction" and _all_puts_by_id(bundle):
            _load_transaction(ctx, bundle, summary)
        else:
            _load_entries(ctx, bundle, summary)
        summary.files += 1
    if views is not None and views.is_dir():
        summary.views = load_views(ctx, views)
    return summary


def load_views(ctx: ServerContext, folder: Path) -> int:
    """Put every ViewDefinition in `folder` (*.json) by its id; how many there were."""
    paths = sorted(folder.glob("*.json"))
    for path in paths:
        view = orjson.loads(path.read_bytes())
        update(ctx, view["resourceType"], view["id"], view)
    return len(paths)


def _all_puts_by_id(bundle: dict[str, Any]) -> bool:
    return all(
        e.get("request", {}).get("method") == "PUT"
        and e.get("request", {}).get("url")
        == f"{e['resource']['resourceType']}/{e['resource'].get('id')}"
        for e in bundle.get("entry", [])
    )


def _load_transaction(ctx: ServerContext, bundle: dict[str, Any], summary: SeedSummary) -> None:
    keys = [(e["resource"]["resourceType"], e["resource"]["id"]) for e in bundle.get("entry", [])]
    before = _versions(ctx, keys)
    result = process_bundle(ctx, RequestInfo(base_url=SEED_BASE), bundle)
    assert result.body is not None
    response = orjson.loads(result.body)
    for key, entry in zip(keys, response["entry"], strict=True):
        summary.add(before.get(key), _etag_version(entry["response"]["etag"]))


def _load_entries(ctx: ServerContext, bundle: dict[str, Any], summary: SeedSummary) -> None:
    """Any other Bundle: update each entry's resource by its id, one at a time."""
    for entry in bundle.get("entry", []):
        resource = entry["resource"]
        key = (resource["resourceType"], resource["id"])
        before = _versions(ctx, [key]).get(key)
        result = update(ctx, key[0], key[1], resource)
        assert result.record is not None
        summary.add(before, result.record.version)


def _versions(ctx: ServerContext, keys: list[tuple[str, str]]) -> dict[tuple[str, str], int]:
    with ctx.store.session() as session:
        records = session.read_many(keys)
    return {key: r.version for key, r in records.items() if not r.deleted}


def _etag_version(etag: str) -> int:
    return int(etag.removeprefix("W/").strip('"'))
