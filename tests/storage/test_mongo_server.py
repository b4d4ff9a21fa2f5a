"""Properties only a real MongoDB server can show: index use and lock conflicts.

Skipped unless MONGODB_URI points at a replica set (e.g. `docker compose up -d mongo`).
"""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from fhir_server.storage import mongo_query as mq
from fhir_server.storage.mongo import MongoStore, TransactionConflict
from fhir_server.storage.query import InCompartment, Predicate, Range, Reference, String, Token

pytestmark = pytest.mark.mongo_real


@pytest.fixture
def server() -> Iterator[MongoStore]:
    uri = os.environ.get("MONGODB_URI")
    if not uri:
        pytest.skip("MONGODB_URI is not set: no real MongoDB server to test against")
    store = MongoStore.from_url(uri, default_database=f"fhir_test_{uuid.uuid4().hex[:12]}")
    try:
        yield store
    finally:
        store.drop_database()
        store.close()


def plan_stages(plan: Any) -> list[str]:
    if isinstance(plan, dict):
        found = [plan["stage"]] if "stage" in plan else []
        return found + [s for value in plan.values() for s in plan_stages(value)]
    if isinstance(plan, list):
        return [s for item in plan for s in plan_stages(item)]
    return []


@pytest.mark.parametrize(
    "predicate",
    [
        Token("code", "8867-4", "http://loinc.org"),
        String("name", "ram"),
        Range("date", (("low", ">=", 1.0),)),
        Reference("subject", (("Patient", "p1"),)),
        InCompartment(("p1",)),
    ],
    ids=repr,
)
def test_common_searches_use_an_index(server: MongoStore, predicate: Predicate) -> None:
    where = mq.base_filter(["Observation"], predicate)
    explained = server.db.command(
        "explain", {"find": "resources", "filter": where}, verbosity="queryPlanner"
    )
    stages = plan_stages(explained["queryPlanner"]["winningPlan"])
    assert "IXSCAN" in stages and "COLLSCAN" not in stages


def test_two_transactions_locking_one_key_cannot_both_proceed(server: MongoStore) -> None:
    if not server.transactional:
        pytest.skip("the server is not a replica set: no transactions")
    holding = threading.Event()
    release = threading.Event()
    errors: list[BaseException] = []

    def first() -> None:
        with server.session(write=True) as session:
            session.lock("create:Patient?identifier=x|1")
            holding.set()
            release.wait(10)

    thread = threading.Thread(target=first)
    thread.start()
    holding.wait(10)
    try:
        with server.session(write=True) as session:
            session.lock("create:Patient?identifier=x|1")
    except TransactionConflict as exc:
        errors.append(exc)
    finally:
        release.set()
        thread.join()
    assert len(errors) == 1 and errors[0].retryable
