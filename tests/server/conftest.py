"""A real `fhir-server serve` process with two workers, for concurrency tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.live_server import running_server


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of a server with 2 worker processes sharing one SQLite file."""
    db = tmp_path_factory.mktemp("live") / "fhir.db"
    with running_server(f"sqlite:///{db}", workers=2) as origin:
        yield f"{origin}/fhir"
