"""MongoDB concept store (see terminology_base for what it serves).

    term_systems   {_id: url, version, name, count}
    term_concepts  {_id: "url|code", s: url, c: code, d: display, dl: len(display),
                    des: [[lang, use, value]], prop: [[code, value]], up: [parents],
                    w: [normalised words], anc: [ancestors, self included]}

Indexes: (s, c) unique for look-ups; (s, w) for a text filter (one `$elemMatch` range
per word); (s, anc) for descendants and "below X" filters; (s, dl, d, c) for the
type-ahead order. The closure lives on each concept (`anc`), so "is-a X and matches the
filter" is one query on one collection.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import pymongo
from pymongo import UpdateOne
from pymongo.errors import BulkWriteError

from fhir_server.storage.terminology_base import ConceptPage, StoredConcept, StoredSystem
from fhir_server.storage.terminology_closure import ancestors_of

_BATCH = 2000
_CONCEPT_INDEXES = [
    pymongo.IndexModel([("s", 1), ("c", 1)], name="s_c", unique=True),
    pymongo.IndexModel([("s", 1), ("w", 1)], name="s_w"),
    pymongo.IndexModel([("s", 1), ("anc", 1)], name="s_anc"),
    pymongo.IndexModel([("s", 1), ("dl", 1), ("d", 1), ("c", 1)], name="s_order"),
]
_FIELDS = {"c": 1, "d": 1, "des": 1, "prop": 1, "up": 1, "_id": 0}


def _concept(doc: dict[str, Any]) -> StoredConcept:
    return StoredConcept(
        code=doc["c"],
        display=doc.get("d"),
        designations=tuple(tuple(d) for d in doc.get("des", ())),  # type: ignore[misc]
        properties=tuple(tuple(p) for p in doc.get("prop", ())),  # type: ignore[misc]
        parents=tuple(doc.get("up", ())),
    )


class MongoTerminologyStore:
    def __init__(self, db: Any) -> None:
        self.db = db
        db.term_concepts.create_indexes(_CONCEPT_INDEXES)

    def systems(self) -> list[StoredSystem]:
        return [
            StoredSystem(d["_id"], d.get("version"), d.get("name"), d.get("count", 0))
            for d in self.db.term_systems.find({})
        ]

    def begin_system(self, url: str, version: str | None, name: str | None) -> None:
        self.drop_system(url)
        self.db.term_systems.insert_one({"_id": url, "version": version, "name": name, "count": 0})

    def put_concepts(self, url: str, concepts: Sequence[StoredConcept]) -> None:
        if not concepts:
            return
        docs = []
        for c in concepts:
            doc: dict[str, Any] = {"_id": f"{url}|{c.code}", "s": url, "c": c.code}
            if c.display is not None:
                doc["d"] = c.display
            doc["dl"] = len(c.display or "")
            if c.designations:
                doc["des"] = [list(d) for d in c.designations]
            if c.properties:
                doc["prop"] = [list(p) for p in c.properties]
            if c.parents:
                doc["up"] = list(c.parents)
            doc["w"] = sorted(set(c.words))
            docs.append(doc)
        unique = list({d["_id"]: d for d in docs}.values())  # a repeated row: the last wins
        try:
            self.db.term_concepts.insert_many(unique, ordered=False)
        except BulkWriteError:
            # codes already put by an earlier batch of this load: replace them one by one
            for doc in unique:
                self.db.term_concepts.replace_one({"_id": doc["_id"]}, doc, upsert=True)

    def finish_system(self, url: str) -> int:
        parents = {
            d["c"]: tuple(d.get("up", ()))
            for d in self.db.term_concepts.find({"s": url}, {"c": 1, "up": 1, "_id": 0})
        }
        batch: list[UpdateOne] = []
        for code, ancestors in ancestors_of(parents):
            batch.append(UpdateOne({"_id": f"{url}|{code}"}, {"$set": {"anc": sorted(ancestors)}}))
            if len(batch) >= _BATCH:
                self._update(batch)
                batch = []
        if batch:
            self._update(batch)
        self.db.term_systems.update_one({"_id": url}, {"$set": {"count": len(parents)}})
        return len(parents)

    def _update(self, batch: list[UpdateOne]) -> None:
        try:
            self.db.term_concepts.bulk_write(batch, ordered=False)
        except TypeError:
            # mongomock's bulk_write does not take current pymongo's UpdateOne: one by one
            for op in batch:
                self.db.term_concepts.update_one(op._filter, op._doc)

    def drop_system(self, url: str) -> None:
        self.db.term_concepts.delete_many({"s": url})
        self.db.term_systems.delete_one({"_id": url})

    def lookup(self, url: str, code: str) -> StoredConcept | None:
        doc = self.db.term_concepts.find_one({"s": url, "c": code}, _FIELDS)
        return _concept(doc) if doc else None

    def lookup_many(self, url: str, codes: Iterable[str]) -> dict[str, StoredConcept]:
        wanted = list(dict.fromkeys(codes))
        found: dict[str, StoredConcept] = {}
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            for doc in self.db.term_concepts.find({"s": url, "c": {"$in": chunk}}, _FIELDS):
                found[doc["c"]] = _concept(doc)
        return found

    def subsumes(self, url: str, ancestor: str, descendant: str) -> bool:
        doc = self.db.term_concepts.find_one(
            {"s": url, "c": descendant, "anc": ancestor}, {"_id": 1}
        )
        return doc is not None

    def descendants(self, url: str, code: str, limit: int | None = None) -> list[str]:
        cursor = self.db.term_concepts.find({"s": url, "anc": code}, {"c": 1, "_id": 0})
        if limit is not None:
            cursor = cursor.limit(limit)
        return [d["c"] for d in cursor]

    def ancestors(self, url: str, code: str) -> list[str]:
        doc = self.db.term_concepts.find_one({"s": url, "c": code}, {"anc": 1, "_id": 0})
        return list(doc.get("anc", ())) if doc else []

    def count_below(self, url: str, code: str | None) -> int:
        if code is None:
            doc = self.db.term_systems.find_one({"_id": url})
            return int(doc.get("count", 0)) if doc else 0
        return int(self.db.term_concepts.count_documents({"s": url, "anc": code}))

    def search(
        self,
        url: str,
        words: Sequence[str],
        below: str | None = None,
        offset: int = 0,
        count: int = 20,
    ) -> ConceptPage:
        where: dict[str, Any] = {"s": url}
        conditions = [
            {"w": {"$elemMatch": {"$gte": word, "$lt": word + "\U0010ffff"}}}
            for word in dict.fromkeys(words)
        ]
        if conditions:
            where["$and"] = conditions
        if below is not None:
            where["anc"] = below
        page = ConceptPage(total=int(self.db.term_concepts.count_documents(where)))
        if count > 0 and page.total > offset:
            cursor = (
                self.db.term_concepts.find(where, _FIELDS)
                .sort([("dl", 1), ("d", 1), ("c", 1)])
                .skip(offset)
                .limit(count)
            )
            page.concepts = [_concept(doc) for doc in cursor]
        return page
