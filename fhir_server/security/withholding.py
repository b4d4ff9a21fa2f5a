"""Leave out of a response what the caller's scopes do not let it read, and say so."""

from __future__ import annotations

from collections.abc import Iterable

from fhir_server.errors import Issue
from fhir_server.security.principal import Principal
from fhir_server.storage.records import StoredRecord


def withhold_unreadable(
    principal: Principal, records: Iterable[StoredRecord], issues: list[Issue]
) -> list[StoredRecord]:
    kept: list[StoredRecord] = []
    withheld: dict[str, int] = {}
    for record in records:
        if principal.allows(record.type, "r"):
            kept.append(record)
        else:
            withheld[record.type] = withheld.get(record.type, 0) + 1
    if withheld:
        listed = ", ".join(f"{n} {t}" for t, n in sorted(withheld.items()))
        issues.append(
            Issue(
                "information",
                "suppressed",
                f"Withheld {listed}: the access token's scopes do not allow reading them",
            )
        )
    return kept


def readable_types(principal: Principal | None, types: Iterable[str]) -> tuple[str, ...]:
    """The types a caller may read; all of them when authentication is off."""
    if principal is None:
        return tuple(types)
    return tuple(t for t in types if principal.allows(t, "r"))
