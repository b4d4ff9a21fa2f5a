"""MongoDB adapter: the same semantics as the SQLite adapter, over pymongo.

Collections
-----------
`resources` — one document per resource, its current version (tombstones included)::

    _id           "Patient/123"             read / write look-ups, optimistic concurrency
    rid           ObjectId                   made on first insert, kept for life: the
                                             keyset tiebreak and the default result order
    type, id      str
    version       int                        1, 2, ...
    last_updated  int                        epoch microseconds, UTC
    deleted       bool
    body          Binary                     the JSON as served, never re-parsed
    tok  [{p, s, c, t}]                      token: param, system, code, normalised text
    str  [{p, v, x}]                         string: param, normalised value, as written
    rng  [{p, lo, hi}]                       date/number: float bounds, -inf/+inf open
    qty  [{p, s, c, u, lo, hi}]              quantity: system, code, unit, bounds
    ref  [{p, tt, ti, u}]                    reference: target type, target id, or url
    uri  [{p, v}]
    cmp  [{p, k, lo, hi}]                    composite: "$"-joined component keys
    srt  {param: key}                        one sort key per parameter (str or float);
                                             `.`/`$`/`%` in a code are %-escaped
    pat  [patient id]                        the Patient compartments holding it

A tombstone keeps `type, id, version, last_updated, deleted=true` and an empty body;
every index array is empty, so searches no longer find it.

`history` — one document per version, deletes included::

    _id           ObjectId                   newest-first tiebreak (grows with time)
    type, id, version, last_updated, deleted, method, body
    ended         int | null                 when the next version replaced it (`_at`)

`locks` — `{_id: sha256(key), n}`, written only inside real transactions (see `lock`).

Indexes (created at start-up; `create_indexes` is idempotent)
-------------------------------------------------------------
resources:
  `rid` (unique)                       system-level search order, `iter_current()`
  `type, rid`                          type-level search in default order, `iter_current(type)`
  `type, id, rid`                      `_id` predicate (IdIn) and `_sort=_id`
  `type, last_updated(±1), rid`        `_lastUpdated` predicate and `_sort=(-)_lastUpdated`
  `type, tok.p, tok.c, tok.s`          Token (any code/system form), TokenText (scans the
                                       param's keys), Missing on tokens
  `type, str.p, str.v`                 String start (range on v) / contains (regex on v)
  `type, str.p, str.x`                 String exact
  `type, rng.p, rng.lo, rng.hi`        Range conditions on low; Missing on ranges
  `type, rng.p, rng.hi`                Range conditions on high only (`lt`, `ends before`)
  `type, qty.p, qty.lo`                quantity Range
  `type, ref.p, ref.ti, ref.tt`        Reference by (type, id) or id alone
  `type, ref.p, ref.u`                 Reference by absolute/canonical url
  `type, uri.p, uri.v`                 Uri eq / below (range) / above ($in of ancestors)
  `type, cmp.p, cmp.k`                 Composite
  `pat, type`                          InCompartment (`$everything`, `Patient/1/Observation`)
history:
  `type, id, version` (unique)         vread; closing the previous version's `ended`
  `type, id, last_updated↓, _id↓`      instance history, newest first
  `type, last_updated↓, _id↓`          type history (`_since`, `_at`)
  `last_updated↓, _id↓`                system history

Each predicate on an index array is one `$elemMatch` whose first condition is `p`, so
all its conditions hold on the same value and the bounds compound on the index above.
A search always filters `deleted: false` and `type`; system-level searches (no type)
cannot use the type-prefixed indexes.

Sorting and paging
------------------
Results are ordered by the sort keys, then `rid` ascending. `_id` / `_lastUpdated` keys
and the default order run as `find().sort()` on the indexes above. Parameter sort keys
run as an aggregation (`$match` on the filter, `$addFields` of a 0/1 "missing" flag and
the key, keyset `$match`, `$sort`, `$limit`), because resources without a value must
come last in both directions while MongoDB sorts missing values first ascending. Pages
are keyset cursors (the last row's keys + rid), never skip; `count + 1` rows are read to
know whether a next page exists. Sort keys of one parameter must share a type (MongoDB
compares numbers and strings in separate brackets).

Sessions and transactions
-------------------------
On a replica set or sharded cluster (`transactional`), `session(write=True)` is a
client session with `start_transaction()` (snapshot read concern, majority writes),
committed when the block ends and aborted when it raises. Writes check the version in
the update filter: `{_id, version: N}` (expected 0 = the document must not exist). The
new resources of one `write()` call (a Bundle's creates) go in one `insert_many` after
one `$in` look-up; a duplicate key from it is a `VersionConflict` too.
MongoDB does not wait for a document another transaction has written: it aborts the
later one with a TransientTransactionError, which surfaces as `VersionConflict` from
`write()` and as `TransactionConflict` (an HTTP 409 FhirError, `retryable=True`) from
`lock()`, other operations and commit; the caller may re-run the whole unit of work.
`mongomock` has no sessions, so there the seam is a no-op and its use is counted in
`MongoStore.untransacted_sessions`: atomicity is proven only against a real server.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import pymongo
from bson import ObjectId
from pymongo.errors import BulkWriteError, ConnectionFailure, DuplicateKeyError, PyMongoError
from pymongo.read_concern import ReadConcern
from pymongo.write_concern import WriteConcern

from fhir_server.errors import FhirError
from fhir_server.instants import to_micros
from fhir_server.storage import mongo_layout as layout
from fhir_server.storage import mongo_query as mq
from fhir_server.storage.base import (
    CommitHooks,
    ExportSelection,
    HistoryPage,
    HistoryQuery,
    IndexUpdate,
    StoreUnavailable,
    TransactionConflict,
    VersionConflict,
)
from fhir_server.storage.cursor import decode_cursor, encode_cursor
from fhir_server.storage.query import Predicate, SearchPage, SearchQuery
from fhir_server.storage.records import StoredRecord, Write
from fhir_server.storage.terminology_mongo import MongoTerminologyStore

log = logging.getLogger("fhir_server.storage.mongo")

_CHUNK = 500  # keys per `$in` look-up
_TRANSIENT = "TransientTransactionError"


class MongoStore:
    transactional: bool

    def __init__(self, client: Any, database: str, kind: str, transactional: bool) -> None:
        self.client = client
        self.kind = kind
        self.transactional = transactional
        self.db = client[database]
        self.untransacted_sessions = 0  # write sessions run through the no-op seam
        self.commit_hooks = CommitHooks()
        self._local = threading.local()
        try:
            self.db.resources.create_indexes(layout.RESOURCE_INDEXES)
            self.db.history.create_indexes(layout.HISTORY_INDEXES)
            # big code systems (LOINC, SNOMED CT): concept collections beside the resources
            self.terminology = MongoTerminologyStore(self.db)
        except ConnectionFailure as exc:
            raise StoreUnavailable(f"cannot reach MongoDB: {exc}") from exc

    @classmethod
    def from_url(cls, url: str, default_database: str = "fhir") -> MongoStore:
        """mongodb://host/db (database from the path, else the default) or mongomock://host/db."""
        if url.startswith("mongomock:"):
            import mongomock

            database = urlsplit(url).path.strip("/") or default_database
            return cls(mongomock.MongoClient(), database, "mongomock", transactional=False)
        try:
            client = pymongo.MongoClient(url)
            database = client.get_default_database(default=default_database).name
            hello = client.admin.command("hello")
        except ConnectionFailure as exc:
            raise StoreUnavailable(f"cannot reach MongoDB at {_redacted(url)}: {exc}") from exc
        # multi-document transactions need a replica set member or a mongos router
        transactional = "setName" in hello or hello.get("msg") == "isdbgrid"
        if not transactional:
            log.warning("MongoDB is a standalone server: write sessions are not atomic")
        return cls(client, database, "mongodb", transactional)

    # -- sessions ----------------------------------------------------------------------
    @contextmanager
    def session(self, write: bool = False) -> Iterator[MongoSession]:
        active: MongoSession | None = getattr(self._local, "session", None)
        if active is not None and (active.writable or not write):
            # nested use in the same thread joins the outer unit of work
            yield active
            return
        if self.transactional and write:
            manager = self._transaction()
        elif self.transactional:
            manager = self._reading()
        else:
            manager = self._untransacted(write)
        with manager as session:
            self._local.session = session
            try:
                yield session
            finally:
                self._local.session = active

    @contextmanager
    def _transaction(self) -> Iterator[MongoSession]:
        with self.client.start_session() as client_session:
            client_session.start_transaction(
                read_concern=ReadConcern("snapshot"),
                write_concern=WriteConcern("majority"),
            )
            try:
                session = MongoSession(self.db, client_session, write=True)
                yield session
                if session.wrote:
                    self.commit_hooks.run_before(session)
            except BaseException as exc:
                if client_session.in_transaction:
                    client_session.abort_transaction()
                if isinstance(exc, PyMongoError) and exc.has_error_label(_TRANSIENT):
                    raise TransactionConflict("The transaction") from exc
                raise
            try:
                # pymongo retries a commit whose outcome is unknown once by itself
                client_session.commit_transaction()
            except PyMongoError as exc:
                if exc.has_error_label(_TRANSIENT):
                    raise TransactionConflict("The transaction") from exc
                raise
            if session.wrote:
                self.commit_hooks.run_after()

    @contextmanager
    def _reading(self) -> Iterator[MongoSession]:
        with self.client.start_session(causal_consistency=True) as client_session:
            yield MongoSession(self.db, client_session, write=False)

    @contextmanager
    def _untransacted(self, write: bool) -> Iterator[MongoSession]:
        # The no-op seam (mongomock, or a standalone mongod): operations apply one by
        # one and a failure half-way leaves earlier writes in place.
        if write:
            if self.untransacted_sessions == 0:
                log.warning("%s has no transactions: write sessions are not atomic", self.kind)
            self.untransacted_sessions += 1
        session = MongoSession(self.db, None, write=write)
        yield session
        if session.wrote:
            self.commit_hooks.run_before(session)
            self.commit_hooks.run_after()

    # -- streaming and lifecycle --------------------------------------------------------
    def iter_current(self, type_: str | None = None) -> Iterator[StoredRecord]:
        where: dict[str, Any] = {"deleted": False}
        if type_ is not None:
            where["type"] = type_
        cursor = self.db.resources.find(where, layout.RECORD_FIELDS, batch_size=500).sort("rid", 1)
        try:
            for doc in cursor:
                yield layout.to_record(doc)
        finally:
            cursor.close()

    def iter_export(self, selections: Sequence[ExportSelection]) -> Iterator[StoredRecord]:
        for selection in selections:
            where = mq.base_filter((selection.type,), selection.where)
            if selection.in_any_compartment:
                where[layout.PATIENTS + ".0"] = {"$exists": True}
            cursor = self.db.resources.find(where, layout.RECORD_FIELDS, batch_size=1000)
            try:
                for doc in cursor.sort("rid", 1):
                    yield layout.to_record(doc)
            finally:
                cursor.close()

    def drop_database(self) -> None:
        self.client.drop_database(self.db.name)

    def close(self) -> None:
        self.client.close()


class MongoSession:
    def __init__(self, db: Any, client_session: Any | None, write: bool) -> None:
        self.db = db
        self.writable = write
        self.wrote = False  # commit hooks run only for sessions that changed something
        self.client_session = client_session
        # mongomock refuses a `session` argument, so it is passed only when there is one
        self._s: dict[str, Any] = {"session": client_session} if client_session else {}

    # -- reads --------------------------------------------------------------------------
    def read(self, type_: str, id_: str) -> StoredRecord | None:
        doc = self.db.resources.find_one(
            {"_id": layout.resource_key(type_, id_)}, layout.RECORD_FIELDS, **self._s
        )
        return layout.to_record(doc) if doc else None

    def vread(self, type_: str, id_: str, version: int) -> StoredRecord | None:
        doc = self.db.history.find_one({"type": type_, "id": id_, "version": version}, **self._s)
        return layout.to_record(doc) if doc else None

    def read_many(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], StoredRecord]:
        unique = [layout.resource_key(*key) for key in dict.fromkeys(keys)]
        found: dict[tuple[str, str], StoredRecord] = {}
        for start in range(0, len(unique), _CHUNK):
            where = {"_id": {"$in": unique[start : start + _CHUNK]}, "deleted": False}
            for doc in self.db.resources.find(where, layout.RECORD_FIELDS, **self._s):
                record = layout.to_record(doc)
                found[(record.type, record.id)] = record
        return found

    def count(self, types: Sequence[str], where: Predicate | None) -> int:
        return self.db.resources.count_documents(mq.base_filter(types, where), **self._s)

    def match_keys(
        self, types: Sequence[str], where: Predicate | None, limit: int | None = None
    ) -> list[tuple[str, str]]:
        cursor = self.db.resources.find(
            mq.base_filter(types, where), {"type": 1, "id": 1}, **self._s
        ).sort("rid", 1)
        if limit is not None:
            if limit <= 0:
                return []
            cursor = cursor.limit(limit)
        return [(doc["type"], doc["id"]) for doc in cursor]

    def referenced_keys(
        self, types: Sequence[str], where: Predicate | None, param: str | None
    ) -> list[tuple[str, str]]:
        target = {"ref.ti": {"$ne": None}, "ref.tt": {"$ne": None}}
        if param is not None:
            target["ref.p"] = param
        pipeline = [
            {"$match": mq.base_filter(types, where)},
            {"$unwind": "$" + layout.REFERENCES},
            {"$match": target},
            {"$group": {"_id": {"tt": "$ref.tt", "ti": "$ref.ti"}}},
        ]
        return [
            (doc["_id"]["tt"], doc["_id"]["ti"])
            for doc in self.db.resources.aggregate(pipeline, **self._s)
        ]

    def search(self, query: SearchQuery) -> SearchPage:
        where = mq.base_filter(query.types, query.where)
        columns = mq.sort_columns(query.sort)
        after = mq.after_position(columns, decode_cursor(query.cursor)) if query.cursor else None
        limit = max(query.count, 0) + 1
        fields = {**layout.RECORD_FIELDS, "rid": 1}
        computed = mq.computed_fields(columns)
        if computed:
            pipeline: list[dict[str, Any]] = [{"$match": where}, {"$addFields": computed}]
            if after is not None:
                pipeline.append({"$match": after})
            pipeline += [
                {"$sort": dict(mq.sort_spec(columns))},
                {"$limit": limit},
                {"$project": {**fields, **dict.fromkeys(computed, 1)}},
            ]
            docs = list(self.db.resources.aggregate(pipeline, **self._s))
        else:
            if after is not None:
                where = {"$and": [where, after]}
            cursor = self.db.resources.find(where, fields, **self._s)
            docs = list(cursor.sort(mq.sort_spec(columns)).limit(limit))
        page = SearchPage(records=[layout.to_record(doc) for doc in docs[: query.count]])
        if len(docs) > query.count > 0:
            page.next_cursor = encode_cursor(mq.position_of(docs[query.count - 1], columns))
        if query.total != "none":
            page.total = self.count(query.types, query.where)
        return page

    def history(self, query: HistoryQuery) -> HistoryPage:
        base: dict[str, Any] = {}
        if query.type is not None:
            base["type"] = query.type
        if query.id is not None:
            base["id"] = query.id
        updated: dict[str, int] = {}
        if query.since is not None:
            updated["$gte"] = to_micros(query.since)
        if query.at is not None:
            start, end = (to_micros(t) for t in query.at)
            updated["$lt"] = end
            base["$or"] = [{"ended": None}, {"ended": {"$gt": start}}]
        if updated:
            base["last_updated"] = updated
        where = base
        if query.cursor:
            position = decode_cursor(query.cursor)
            if len(position) != 2 or not ObjectId.is_valid(position[1]):
                raise FhirError(400, "invalid", "The paging cursor is not valid", ["_cursor"])
            stamp, seq = position[0], ObjectId(position[1])
            after = {
                "$or": [
                    {"last_updated": {"$lt": stamp}},
                    {"last_updated": stamp, "_id": {"$lt": seq}},
                ]
            }
            where = {"$and": [base, after]}
        cursor = self.db.history.find(where, **self._s)
        docs = list(cursor.sort([("last_updated", -1), ("_id", -1)]).limit(query.count + 1))
        page = HistoryPage(records=[layout.to_record(doc) for doc in docs[: query.count]])
        if len(docs) > query.count > 0:
            last = docs[query.count - 1]
            page.next_cursor = encode_cursor([last["last_updated"], str(last["_id"])])
        if query.id is not None:
            page.total = self.db.history.count_documents(base, **self._s)
        return page

    def change_marker(self) -> object | None:
        return None  # transactions abort on conflict instead (rest/retry.py)

    # -- writes -------------------------------------------------------------------------
    def lock(self, key: str) -> None:
        if self.client_session is None:
            return  # no transactions (mongomock): nothing to conflict on
        # Two transactions writing one document conflict: the later one is aborted, so
        # sessions that share a key cannot both commit what they decided under it.
        digest = hashlib.sha256(key.encode()).hexdigest()
        try:
            self.db.locks.update_one({"_id": digest}, {"$inc": {"n": 1}}, upsert=True, **self._s)
        except PyMongoError as exc:
            if exc.has_error_label(_TRANSIENT):
                raise TransactionConflict(f"The lock on {key!r}") from exc
            raise

    def write(self, writes: Sequence[Write]) -> None:
        if not self.writable:
            raise RuntimeError("write() needs a write session")
        self.wrote = True
        history: list[dict[str, Any]] = []
        pending: dict[tuple[str, str, int], dict[str, Any]] = {}  # versions in `history`
        inserted = self._insert_new(writes)
        for w in writes:
            rec = w.record
            previous = None if id(w) in inserted else self._replace_current(w)
            entry = layout.history_document(rec)
            if previous is not None:
                closed = pending.get((rec.type, rec.id, previous))
                if closed is not None:
                    closed["ended"] = entry["last_updated"]
                else:
                    self.db.history.update_one(
                        {"type": rec.type, "id": rec.id, "version": previous},
                        {"$set": {"ended": entry["last_updated"]}},
                        **self._s,
                    )
            pending[(rec.type, rec.id, rec.version)] = entry
            history.append(entry)
        if history:
            self.db.history.insert_many(history, ordered=True, **self._s)

    def replace_index(self, entries: Sequence[IndexUpdate]) -> int:
        if not self.writable:
            raise RuntimeError("replace_index() needs a write session")
        # the version in the filter skips a document updated since it was read.
        # One update_one per entry: mongomock's bulk_write rejects pymongo 4.9+ UpdateOne.
        matched = 0
        for e in entries:
            result = self.db.resources.update_one(
                {"_id": layout.resource_key(e.type, e.id), "version": e.version, "deleted": False},
                {"$set": layout.index_fields(e.index)},
                **self._s,
            )
            matched += result.matched_count
        return matched

    def _insert_new(self, writes: Sequence[Write]) -> set[int]:
        """Insert, in one round trip, the resources that must not exist yet (a Bundle's
        creates); return the `id()`s of the writes done. A key written twice in one call
        is left to `_replace_current`, which sees its own first write."""
        seen: dict[str, int] = {}
        for w in writes:
            key = layout.resource_key(w.record.type, w.record.id)
            seen[key] = seen.get(key, 0) + 1
        new = [
            w
            for w in writes
            if w.expected_version == 0
            and seen[layout.resource_key(w.record.type, w.record.id)] == 1
        ]
        if len(new) < 2:
            return set()
        keys = [layout.resource_key(w.record.type, w.record.id) for w in new]
        found: dict[str, int] = {}
        for start in range(0, len(keys), _CHUNK):
            where = {"_id": {"$in": keys[start : start + _CHUNK]}}
            for doc in self.db.resources.find(where, {"version": 1}, **self._s):
                found[doc["_id"]] = doc["version"]
        for w, key in zip(new, keys, strict=True):
            if key in found:
                raise VersionConflict(w.record.type, w.record.id, 0, found[key])
        docs = [
            {"_id": key, "rid": ObjectId(), **layout.resource_fields(w.record, w.index)}
            for w, key in zip(new, keys, strict=True)
        ]
        try:
            self.db.resources.insert_many(docs, ordered=True, **self._s)
        except PyMongoError as exc:
            # created concurrently since the look-up: a duplicate key, or a write conflict
            # with another transaction
            failed = _first_failed(exc, new)
            if failed is not None:
                raise VersionConflict(failed.record.type, failed.record.id, 0, None) from exc
            raise
        return {id(w) for w in new}

    def _replace_current(self, w: Write) -> int | None:
        """Make `w` the current version; return the version it replaced (None if new)."""
        rec = w.record
        key = layout.resource_key(rec.type, rec.id)
        fields = layout.resource_fields(rec, w.index)
        where: dict[str, Any] = {"_id": key}
        if w.expected_version == 0:
            # only-on-insert: an existing document is left alone and reported, with no
            # duplicate-key error (an error would abort a server-side transaction)
            update: dict[str, Any] = {"$setOnInsert": {"rid": ObjectId(), **fields}}
        else:
            update = {"$set": fields, "$setOnInsert": {"rid": ObjectId()}}
            if w.expected_version is not None:
                where["version"] = w.expected_version
        try:
            before = self._find_and_update(where, update, upsert=w.expected_version in (0, None))
        except PyMongoError as exc:
            if exc.has_error_label(_TRANSIENT):
                raise VersionConflict(rec.type, rec.id, w.expected_version, None) from exc
            raise
        if w.expected_version is None:
            return before["version"] if before else None
        if w.expected_version == 0:
            if before is None:
                return None
            raise VersionConflict(rec.type, rec.id, 0, before["version"])
        if before is None:
            current = self.db.resources.find_one({"_id": key}, {"version": 1}, **self._s)
            raise VersionConflict(
                rec.type, rec.id, w.expected_version, current["version"] if current else 0
            )
        return before["version"]

    def _find_and_update(
        self, where: dict[str, Any], update: dict[str, Any], upsert: bool
    ) -> dict[str, Any] | None:
        def attempt() -> dict[str, Any] | None:
            return self.db.resources.find_one_and_update(
                where, update, projection={"version": 1}, upsert=upsert, **self._s
            )

        try:
            return attempt()
        except DuplicateKeyError:
            # two upserts of one new _id raced outside a transaction; the document
            # exists now, so the second attempt updates (or reports) it
            return attempt()


def _first_failed(exc: PyMongoError, writes: Sequence[Write]) -> Write | None:
    """The write an insert_many failed on, when the failure means "already exists"."""
    if exc.has_error_label(_TRANSIENT):
        return writes[0]
    if isinstance(exc, BulkWriteError):
        for error in exc.details.get("writeErrors", []):
            if error.get("code") == 11000:
                return writes[error["index"]]
    return None


def _redacted(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        return url.replace(f":{parts.password}@", ":***@")
    return url
