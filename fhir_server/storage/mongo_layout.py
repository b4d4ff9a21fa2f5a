"""MongoDB document layout: how a record and its index become documents, and back.

The layout and the indexes that serve each query shape are described in the docstring
of `fhir_server.storage.mongo`; this module is the single place that spells the field
names, so the query translator and the writer cannot drift apart.
"""

from __future__ import annotations

from typing import Any

from bson import Binary, ObjectId
from pymongo import ASCENDING, DESCENDING, IndexModel

from fhir_server.instants import from_micros, to_micros
from fhir_server.storage.records import ResourceIndex, StoredRecord

_INF = float("inf")

# one array of subdocuments per index kind (see the `mongo` module docstring)
TOKENS, STRINGS, RANGES, QUANTITIES = "tok", "str", "rng", "qty"
REFERENCES, URIS, COMPOSITES, SORTS, PATIENTS = "ref", "uri", "cmp", "srt", "pat"
INDEX_FIELDS = (TOKENS, STRINGS, RANGES, QUANTITIES, REFERENCES, URIS, COMPOSITES)

# what a search page or read needs; leaves the index arrays on the server
RECORD_FIELDS = {"type": 1, "id": 1, "version": 1, "last_updated": 1, "deleted": 1, "body": 1}

RESOURCE_INDEXES = [
    IndexModel([("rid", ASCENDING)], name="rid", unique=True),
    IndexModel([("type", ASCENDING), ("rid", ASCENDING)], name="type_rid"),
    IndexModel([("type", ASCENDING), ("id", ASCENDING), ("rid", ASCENDING)], name="type_id"),
    IndexModel(
        [("type", ASCENDING), ("last_updated", ASCENDING), ("rid", ASCENDING)],
        name="type_updated_asc",
    ),
    # a keyset sort is (last_updated DESC, rid ASC): mixed directions need their own index
    IndexModel(
        [("type", ASCENDING), ("last_updated", DESCENDING), ("rid", ASCENDING)],
        name="type_updated_desc",
    ),
    IndexModel(
        [("type", ASCENDING), ("tok.p", ASCENDING), ("tok.c", ASCENDING), ("tok.s", ASCENDING)],
        name="token",
    ),
    IndexModel([("type", ASCENDING), ("str.p", ASCENDING), ("str.v", ASCENDING)], name="string"),
    IndexModel(
        [("type", ASCENDING), ("str.p", ASCENDING), ("str.x", ASCENDING)], name="string_exact"
    ),
    IndexModel(
        [("type", ASCENDING), ("rng.p", ASCENDING), ("rng.lo", ASCENDING), ("rng.hi", ASCENDING)],
        name="range_low",
    ),
    IndexModel(
        [("type", ASCENDING), ("rng.p", ASCENDING), ("rng.hi", ASCENDING)], name="range_high"
    ),
    IndexModel([("type", ASCENDING), ("qty.p", ASCENDING), ("qty.lo", ASCENDING)], name="quantity"),
    IndexModel(
        [("type", ASCENDING), ("ref.p", ASCENDING), ("ref.ti", ASCENDING), ("ref.tt", ASCENDING)],
        name="reference",
    ),
    IndexModel(
        [("type", ASCENDING), ("ref.p", ASCENDING), ("ref.u", ASCENDING)], name="reference_url"
    ),
    IndexModel([("type", ASCENDING), ("uri.p", ASCENDING), ("uri.v", ASCENDING)], name="uri"),
    IndexModel([("type", ASCENDING), ("cmp.p", ASCENDING), ("cmp.k", ASCENDING)], name="composite"),
    IndexModel([("pat", ASCENDING), ("type", ASCENDING)], name="compartment"),
]

HISTORY_INDEXES = [
    IndexModel(
        [("type", ASCENDING), ("id", ASCENDING), ("version", ASCENDING)],
        name="type_id_version",
        unique=True,
    ),
    IndexModel(
        [("type", ASCENDING), ("id", ASCENDING), ("last_updated", DESCENDING), ("_id", DESCENDING)],
        name="instance_newest",
    ),
    IndexModel(
        [("type", ASCENDING), ("last_updated", DESCENDING), ("_id", DESCENDING)],
        name="type_newest",
    ),
    IndexModel([("last_updated", DESCENDING), ("_id", DESCENDING)], name="system_newest"),
]


def resource_key(type_: str, id_: str) -> str:
    return f"{type_}/{id_}"


def sort_name(param: str) -> str:
    """A parameter code as a field name: `.` and `$` would read as path/operator syntax."""
    return param.replace("%", "%25").replace(".", "%2E").replace("$", "%24")


def sort_field(param: str) -> str:
    return f"{SORTS}.{sort_name(param)}"


def resource_fields(record: StoredRecord, index: ResourceIndex | None) -> dict[str, Any]:
    """Every field of a `resources` document except `_id` and `rid`.

    Index fields are always present (empty for a tombstone) so that one `$set` replaces
    the previous version's index completely.
    """
    doc: dict[str, Any] = {
        "type": record.type,
        "id": record.id,
        "version": record.version,
        "last_updated": to_micros(record.last_updated),
        "deleted": record.deleted,
        "body": Binary(record.body),
    }
    doc.update(_index_fields(index if index is not None and not record.deleted else None))
    return doc


def index_fields(index: ResourceIndex | None) -> dict[str, Any]:
    """The index arrays of a `resources` document (what `$reindex` replaces)."""
    return _index_fields(index)


def _index_fields(index: ResourceIndex | None) -> dict[str, Any]:
    if index is None:
        return {name: [] for name in (*INDEX_FIELDS, PATIENTS)} | {SORTS: {}}
    sorts: dict[str, Any] = {}
    for s in index.sorts:
        # one key per parameter, the first one wins (as in the SQLite adapter)
        sorts.setdefault(sort_name(s.param), s.key)
    return {
        TOKENS: [{"p": t.param, "s": t.system, "c": t.code, "t": t.text} for t in index.tokens],
        STRINGS: [{"p": s.param, "v": s.value, "x": s.exact} for s in index.strings],
        RANGES: [
            {
                "p": r.param,
                "lo": -_INF if r.low is None else float(r.low),
                "hi": _INF if r.high is None else float(r.high),
            }
            for r in index.ranges
        ],
        QUANTITIES: [
            {"p": x.param, "s": x.system, "c": x.code, "u": x.unit, "lo": x.low, "hi": x.high}
            for x in index.quantities
        ],
        REFERENCES: [
            {"p": x.param, "tt": x.target_type, "ti": x.target_id, "u": x.url}
            for x in index.references
        ],
        URIS: [{"p": u.param, "v": u.value} for u in index.uris],
        COMPOSITES: [
            {"p": c.param, "k": "$".join(c.keys), "lo": c.low, "hi": c.high}
            for c in index.composites
        ],
        SORTS: sorts,
        PATIENTS: list(dict.fromkeys(index.compartments)),
    }


def history_document(record: StoredRecord) -> dict[str, Any]:
    return {
        # an ObjectId grows with time within a process: the newest-first tiebreak
        "_id": ObjectId(),
        "type": record.type,
        "id": record.id,
        "version": record.version,
        "last_updated": to_micros(record.last_updated),
        "ended": None,
        "deleted": record.deleted,
        "method": record.method,
        "body": Binary(record.body),
    }


def to_record(doc: dict[str, Any]) -> StoredRecord:
    return StoredRecord(
        type=doc["type"],
        id=doc["id"],
        version=doc["version"],
        last_updated=from_micros(doc["last_updated"]),
        deleted=bool(doc["deleted"]),
        body=bytes(doc["body"]),
        method=doc.get("method", "PUT"),
    )
