"""Server-assigned ids are time-ordered UUIDs (version 7): valid FHIR ids, unique, and
later ids sort after earlier ones (which keeps the store's id indexes growing at the end)."""

from __future__ import annotations

import time
import uuid

from fhir_server.rest.versioning import ID_PATTERN, new_id


def test_ids_are_version_7_uuids_and_valid_fhir_ids() -> None:
    made = [new_id() for _ in range(1000)]
    assert len(set(made)) == len(made)
    for value in made[:20]:
        parsed = uuid.UUID(value)
        assert parsed.version == 7 and parsed.variant == uuid.RFC_4122
        assert ID_PATTERN.fullmatch(value)


def test_later_ids_sort_after_earlier_ones() -> None:
    first = new_id()
    time.sleep(0.002)  # the order is by millisecond
    second = new_id()
    assert first < second
    millis = int(first.replace("-", "")[:12], 16)
    assert abs(millis - time.time() * 1000) < 60_000
