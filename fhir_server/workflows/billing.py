"""Invoice totals must add up (NRCeS price components: rate, discounts, CGST/SGST).

totalNet = sum over line items of base + surcharge - discount - deduction;
totalGross = totalNet + every tax amount. A tax component with a factor must amount to
factor x the line's net, to the paisa. Informational components (MRP) do not count.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from fhir_server.errors import FhirError
from fhir_server.storage.base import StoreSession
from fhir_server.storage.records import StoredRecord
from fhir_server.workflows.rules import write_rule

if TYPE_CHECKING:
    from fhir_server.rest.context import ServerContext

PAISA = Decimal("0.01")


def _amount(component: dict[str, Any]) -> Decimal:
    value = (component.get("amount") or {}).get("value")
    return Decimal(str(value)) if isinstance(value, int | float) else Decimal(0)


def _fail(message: str, where: str) -> FhirError:
    return FhirError(422, "business-rule", message, [where])


@write_rule("Invoice")
def invoice_totals_add_up(
    ctx: ServerContext,
    session: StoreSession,
    resource: dict[str, Any],
    current: StoredRecord | None,
) -> None:
    lines = resource.get("lineItem") or []
    if not any(line.get("priceComponent") for line in lines if isinstance(line, dict)):
        return  # a summary invoice without price components: nothing to add up
    net = Decimal(0)
    tax = Decimal(0)
    for i, line in enumerate(lines):
        line_net = Decimal(0)
        line_taxes: list[tuple[int, dict[str, Any]]] = []
        for j, component in enumerate(line.get("priceComponent") or []):
            kind = component.get("type")
            if kind in ("base", "surcharge"):
                line_net += _amount(component)
            elif kind in ("discount", "deduction"):
                line_net -= abs(_amount(component))
            elif kind == "tax":
                line_taxes.append((j, component))
        for j, component in line_taxes:
            amount = _amount(component)
            factor = component.get("factor")
            if isinstance(factor, int | float):
                expected = (line_net * Decimal(str(factor))).quantize(PAISA, ROUND_HALF_UP)
                if abs(expected - amount) > PAISA / 2:
                    raise _fail(
                        f"lineItem[{i}] tax {amount} is not factor {factor} x net {line_net}"
                        f" (= {expected})",
                        f"Invoice.lineItem[{i}].priceComponent[{j}].amount",
                    )
            tax += amount
        net += line_net
    for field, expected in (("totalNet", net), ("totalGross", net + tax)):
        stated = (resource.get(field) or {}).get("value")
        if isinstance(stated, int | float) and abs(Decimal(str(stated)) - expected) > PAISA / 2:
            raise _fail(
                f"Invoice.{field} is {stated} but its price components add up to {expected}",
                f"Invoice.{field}",
            )
