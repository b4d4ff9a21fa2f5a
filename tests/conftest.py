"""Shared fixtures: a store per adapter, and the path to ../shared when it is there.

Every adapter-independent test takes the `store` fixture and so runs on SQLite, on the
MongoDB adapter over mongomock, and on a real MongoDB server when MONGODB_URI is set.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from fhir_server.storage.base import Store

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
ADAPTERS = ("sqlite", "mongomock", "mongodb")
_MONGOMOCK_USED: list[str] = []


def shared_path(*parts: str) -> Path:
    """A path under ../shared, or a visible skip when this clone has no ../shared."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is absent: shared test data lives beside the clone in CI")
    return path


def open_test_store(adapter: str, tmp_path: Path) -> Store:
    if adapter == "sqlite":
        from fhir_server.storage.sqlite import SQLiteStore

        return SQLiteStore(str(tmp_path / "fhir.db"))
    from fhir_server.storage.mongo import MongoStore

    if adapter == "mongomock":
        _MONGOMOCK_USED.append(adapter)
        return MongoStore.from_url("mongomock://localhost/fhir_test")
    uri = os.environ.get("MONGODB_URI")
    if not uri:
        pytest.skip(
            "MONGODB_URI is not set: the MongoDB adapter ran on mongomock only (no real server,"
            " so transactions were not exercised); set MONGODB_URI, e.g. after"
            " `docker compose up -d mongo`, to run it against MongoDB"
        )
    return MongoStore.from_url(uri, default_database=f"fhir_test_{uuid.uuid4().hex[:12]}")


@pytest.fixture(params=ADAPTERS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    opened = open_test_store(request.param, tmp_path)
    try:
        yield opened
    finally:
        drop = getattr(opened, "drop_database", None)
        if request.param == "mongodb" and drop is not None:
            drop()
        opened.close()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    # one line per distinct skip reason (pytest's -rs lists every location)
    reasons: dict[str, int] = {}
    for report in terminalreporter.stats.get("skipped", []):
        if isinstance(report.longrepr, tuple):
            reason = str(report.longrepr[2]).removeprefix("Skipped: ")
            reasons[reason] = reasons.get(reason, 0) + 1
    for reason, count in sorted(reasons.items()):
        terminalreporter.write_line(f"SKIPPED {count} test(s): {reason}", yellow=True)
    ran_on_mongomock = _MONGOMOCK_USED or any(
        "mongomock" in report.nodeid for report in terminalreporter.stats.get("passed", [])
    )
    if ran_on_mongomock:
        terminalreporter.write_line(
            "NOTE: MongoDB adapter tests ran against mongomock (an in-process fake): its"
            " session/transaction seam is a no-op there, so atomicity and concurrency on"
            " MongoDB are proven only when MONGODB_URI points at a real replica set.",
            yellow=True,
        )
