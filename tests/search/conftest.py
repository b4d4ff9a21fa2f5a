"""Fixtures for the search tests: one registry, extractor, parser and Synthea loader."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from fhir_server.search.index import IndexExtractor
from fhir_server.search.query import SearchQueryParser
from fhir_server.search.registry import SearchParameterRegistry
from tests.search.memory_search import MemorySearch

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO / ".." / "shared"
SYNTHEA = SHARED / "data" / "synthea"
OWN_BASE = "https://fhir.example.in/fhir"


@pytest.fixture(scope="session")
def registry() -> SearchParameterRegistry:
    return SearchParameterRegistry.load_default()


@pytest.fixture(scope="session")
def extractor(registry: SearchParameterRegistry) -> IndexExtractor:
    return IndexExtractor(registry, base_urls=[OWN_BASE])


@pytest.fixture(scope="session")
def parser(registry: SearchParameterRegistry) -> SearchQueryParser:
    return SearchQueryParser(registry, base_urls=[OWN_BASE], max_count=500)


@pytest.fixture
def memory(extractor: IndexExtractor) -> MemorySearch:
    return MemorySearch(extractor)


def synthea_resources() -> Iterator[dict]:
    """Every resource of the Synthea bundles, with urn:uuid references made local.

    A transaction turns `urn:uuid:` references into `Type/id`; the tests index what a
    store would hold, so the same rewrite happens here.
    """
    if not SYNTHEA.is_dir():
        pytest.skip(
            f"Synthea data not found at {SYNTHEA.resolve()} (../shared is beside the clone)"
        )
    for path in sorted(SYNTHEA.glob("*.json")):
        bundle = orjson.loads(path.read_bytes())
        by_url = {
            e["fullUrl"]: f"{e['resource']['resourceType']}/{e['resource']['id']}"
            for e in bundle["entry"]
            if "fullUrl" in e and "id" in e["resource"]
        }
        raw = orjson.dumps([e["resource"] for e in bundle["entry"]]).decode()
        for url, local in by_url.items():
            raw = raw.replace(f'"{url}"', f'"{local}"')
        yield from orjson.loads(raw)
