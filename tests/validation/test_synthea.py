"""Real-world data: every resource in the Synthea bundles validates cleanly."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from fhir_server.validation import ResourceValidator, parse_json_body, require_resource
from fhir_server.validation.schema import schema_issues

SYNTHEA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "synthea"


def synthea_bundles() -> list[Path]:
    if not SYNTHEA.is_dir():
        pytest.skip(f"Synthea data not found at {SYNTHEA.resolve()} (shared/ is beside the clone)")
    return sorted(SYNTHEA.glob("*.json"))


@pytest.mark.slow
def test_all_synthea_resources_validate() -> None:
    validator = ResourceValidator()
    count = 0
    for path in synthea_bundles():
        bundle = require_resource(parse_json_body(path.read_bytes(), 64), "Bundle")
        for entry in bundle["entry"]:
            validator.validate(entry["resource"])
            count += 1
    assert count > 7000


@pytest.mark.slow
def test_synthea_patients_conform_to_the_r4_schema() -> None:
    for path in synthea_bundles():
        bundle = orjson.loads(path.read_bytes())
        for entry in bundle["entry"]:
            if entry["resource"]["resourceType"] in ("Patient", "Encounter", "Claim"):
                assert schema_issues(entry["resource"]) == []
