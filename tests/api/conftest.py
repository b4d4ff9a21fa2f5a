"""An HTTP client on the app, once per storage adapter."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from fhir_server.api.app import create_app
from fhir_server.settings import Settings
from tests.conftest import ADAPTERS, open_test_store

BASE = "http://testserver/fhir"


def make_client(adapter: str, tmp_path: Path, **settings: object) -> TestClient:
    store = open_test_store(adapter, tmp_path)
    app = create_app(Settings(store="sqlite:///unused.db", **settings), store=store)
    return TestClient(app, raise_server_exceptions=False)


@pytest.fixture(params=ADAPTERS)
def client(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TestClient]:
    with make_client(request.param, tmp_path) as test_client:
        yield test_client
        drop = getattr(test_client.app.state.ctx.store, "drop_database", None)
        if request.param == "mongodb" and drop is not None:
            drop()


@pytest.fixture(params=ADAPTERS)
def client_with(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[Callable[..., TestClient]]:
    """A factory of clients on this adapter with extra settings (timezone, base URL).

    Clients made by one factory share one store file (SQLite) or database (MongoDB), so a
    test can also play several worker processes against one store.
    """
    opened: list[TestClient] = []
    shared: dict[str, object] = {}

    def factory(**settings: object) -> TestClient:
        store = shared.get("store") if settings.pop("share_store", False) else None
        if store is None:
            store = open_test_store(request.param, tmp_path / f"s{len(opened)}")
            shared["store"] = store
        app = create_app(Settings(store="sqlite:///unused.db", **settings), store=store)
        client = TestClient(app, raise_server_exceptions=False)
        client.__enter__()
        opened.append(client)
        return client

    yield factory
    for client in opened:
        drop = getattr(client.app.state.ctx.store, "drop_database", None)
        if request.param == "mongodb" and drop is not None:
            drop()
        client.__exit__(None, None, None)


def require_transactions(client: TestClient) -> None:
    """Skip where the store cannot roll back (mongomock), saying so."""
    store = client.app.state.ctx.store
    if not store.transactional:
        pytest.skip(
            f"{store.kind} has no transactions: atomic rollback is proven on SQLite here and"
            " on MongoDB only against a real replica set (MONGODB_URI)"
        )
