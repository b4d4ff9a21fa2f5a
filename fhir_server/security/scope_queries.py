"""SMART v2 query-restricted scopes (`system/Observation.rs?category=laboratory`).

Such a scope grants read and search on the resources its query matches. Searches get the
query as a predicate (so totals and paging count only what the token may see); records
that leave the server another way (read, history, includes, `$everything`) are checked
one by one against it. A query this server cannot parse matches nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl

from fhir_server.errors import FhirError
from fhir_server.search.subsearch import SessionSubSearch
from fhir_server.security.acting import current_principal
from fhir_server.storage.base import StoreSession
from fhir_server.storage.query import And, IdIn, Nothing, Or, Predicate
from fhir_server.storage.records import StoredRecord

if TYPE_CHECKING:
    from fhir_server.rest.context import ServerContext


def scope_predicate(
    ctx: ServerContext, session: StoreSession, type_: str, queries: Sequence[str]
) -> Predicate | None:
    """What the queries match (None: everything of the type)."""
    predicates: list[Predicate] = []
    for query in queries:
        try:
            parsed = ctx.parser.parse(
                (type_,),
                parse_qsl(query, keep_blank_values=True),
                strict=True,
                subsearch=SessionSubSearch(session, ctx.indexer),
            )
        except FhirError:
            predicates.append(Nothing())  # a restriction we cannot read grants nothing
            continue
        if parsed.where is None:
            return None
        predicates.append(parsed.where)
    if not predicates:
        return Nothing()
    return predicates[0] if len(predicates) == 1 else Or(tuple(predicates))


def search_restriction(
    ctx: ServerContext, session: StoreSession, types: Sequence[str]
) -> Predicate | None:
    """The predicate a one-type search must add for a query-restricted token, or None."""
    principal = current_principal()
    if principal is None or len(types) != 1:
        return None  # several types: each record is checked as it leaves (Visibility)
    queries = principal.restriction(types[0], "s")
    if queries is None:
        return None
    return scope_predicate(ctx, session, types[0], queries)


def record_matches(
    ctx: ServerContext, session: StoreSession, record: StoredRecord, queries: Sequence[str]
) -> bool:
    where = scope_predicate(ctx, session, record.type, queries)
    if where is None:
        return True
    match = And((IdIn((record.id,)), where))
    return bool(session.match_keys((record.type,), match, limit=1))
