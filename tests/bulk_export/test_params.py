"""$export parameter parsing that needs no server."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from fhir_server.bulk_export.params import from_parameters, parse_instant
from fhir_server.errors import FhirError


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-01-31T10:00:00Z", datetime(2024, 1, 31, 10, 0, tzinfo=UTC)),
        ("2024-01-31T15:30:00.250+05:30", datetime(2024, 1, 31, 10, 0, 0, 250000, tzinfo=UTC)),
        # an unencoded '+' in a query string arrives as a space
        ("2024-01-31T15:30:00 05:30", datetime(2024, 1, 31, 10, 0, tzinfo=UTC)),
    ],
)
def test_since_is_a_fhir_instant_in_utc(text: str, expected: datetime) -> None:
    assert parse_instant(text) == expected


@pytest.mark.parametrize("text", ["2024-01-31", "2024-01-31T10:00", "2024-13-01T00:00:00Z", ""])
def test_since_without_time_and_zone_is_refused(text: str) -> None:
    with pytest.raises(FhirError) as raised:
        parse_instant(text)
    assert raised.value.status == 400 and "_since" in raised.value.diagnostics


def test_parameters_body_becomes_name_value_pairs() -> None:
    body = {
        "resourceType": "Parameters",
        "parameter": [
            {"name": "_type", "valueString": "Patient"},
            {"name": "_since", "valueInstant": "2024-01-31T10:00:00Z"},
        ],
    }
    assert from_parameters(body) == [("_type", "Patient"), ("_since", "2024-01-31T10:00:00Z")]
    with pytest.raises(FhirError):
        from_parameters({"resourceType": "Parameters", "parameter": [{"name": "_type"}]})
