"""Registration and dispatch of write rules."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from fhir_server.storage.base import StoreSession
from fhir_server.storage.records import StoredRecord

if TYPE_CHECKING:
    from fhir_server.rest.context import ServerContext

WriteRule = Callable[["ServerContext", StoreSession, dict[str, Any], StoredRecord | None], None]

DeleteRule = Callable[["ServerContext", StoreSession, StoredRecord], None]

_BY_TYPE: dict[str, list[WriteRule]] = {}
_FOR_ALL: list[WriteRule] = []
_ON_DELETE: dict[str, list[DeleteRule]] = {}


def write_rule(*types: str) -> Callable[[WriteRule], WriteRule]:
    """Register a rule for the given resource types (none: every type)."""

    def register(rule: WriteRule) -> WriteRule:
        if types:
            for type_ in types:
                _BY_TYPE.setdefault(type_, []).append(rule)
        else:
            _FOR_ALL.append(rule)
        return rule

    return register


def apply_write_rules(
    ctx: ServerContext,
    session: StoreSession,
    resource: dict[str, Any],
    current: StoredRecord | None,
    done: frozenset[WriteRule] = frozenset(),
) -> None:
    """Run every rule for this resource but those `done` already (for this same state of
    the store); a rule raises FhirError (409/422) to refuse."""
    for rule in _FOR_ALL:
        if rule not in done:
            rule(ctx, session, resource, current)
    for rule in _BY_TYPE.get(resource["resourceType"], ()):
        if rule not in done:
            rule(ctx, session, resource, current)


def delete_rule(*types: str) -> Callable[[DeleteRule], DeleteRule]:
    """Register a rule that runs before a resource of these types is deleted."""

    def register(rule: DeleteRule) -> DeleteRule:
        for type_ in types:
            _ON_DELETE.setdefault(type_, []).append(rule)
        return rule

    return register


def apply_delete_rules(ctx: ServerContext, session: StoreSession, current: StoredRecord) -> None:
    for rule in _ON_DELETE.get(current.type, ()):
        rule(ctx, session, current)
