"""Open the store named by a URL: sqlite:///path or mongodb://..."""

from __future__ import annotations

from fhir_server.settings import Settings
from fhir_server.storage.base import Store


def open_store(settings: Settings, url: str | None = None) -> Store:
    url = url or settings.store
    if url.startswith("sqlite:"):
        from fhir_server.storage.sqlite import SQLiteStore

        return SQLiteStore.from_url(url, busy_timeout_ms=settings.sqlite_busy_timeout_ms)
    if url.startswith(("mongodb:", "mongodb+srv:", "mongomock:")):
        from fhir_server.storage.mongo import MongoStore

        return MongoStore.from_url(url, default_database=settings.mongo_database)
    raise ValueError(f"unsupported store URL {url!r}: use sqlite:///path or mongodb://host/db")
