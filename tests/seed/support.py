"""Reading seed and document Bundles for the tests."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson

from fhir_server.generate.fhir import PRICE_COMPONENTS

REPO = Path(__file__).resolve().parents[2]
SEED_DIR = REPO / "seed_bundles"
DOCUMENTS_DIR = SEED_DIR / "abdm-documents"


def load(path: Path) -> dict[str, Any]:
    return orjson.loads(path.read_bytes())


def seed_resources() -> list[dict[str, Any]]:
    return [e["resource"] for p in sorted(SEED_DIR.glob("*.json")) for e in load(p)["entry"]]


def references(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "reference" and isinstance(item, str):
                yield item
            else:
                yield from references(item)
    elif isinstance(value, list):
        for item in value:
            yield from references(item)


def money(value: dict[str, Any]) -> Decimal:
    assert value["currency"] == "INR"
    return Decimal(str(value["value"]))


def invoice_problems(invoice: dict[str, Any]) -> list[str]:
    """Recompute an Invoice's totals from its price components (see generate/billing.py)."""
    net = tax = Decimal(0)
    for item in invoice["lineItem"]:
        for part in item["priceComponent"]:
            codes = {c["code"] for c in part["code"]["coding"] if c["system"] == PRICE_COMPONENTS}
            amount = money(part["amount"])
            if part["type"] == "base":
                assert codes == {"01"}
                net += amount
            elif part["type"] == "discount":
                assert codes == {"02"}
                net -= amount
            elif part["type"] == "tax":
                assert codes <= {"03", "04"} and codes
                tax += amount
            else:
                assert part["type"] == "informational" and codes == {"00"}
    problems = []
    if money(invoice["totalNet"]) != net:
        problems.append(f"{invoice['id']}: totalNet {invoice['totalNet']} != {net}")
    if money(invoice["totalGross"]) != net + tax:
        problems.append(f"{invoice['id']}: totalGross {invoice['totalGross']} != {net + tax}")
    return problems
