"""Matching the search criteria of conditional create / update / patch / delete."""

from __future__ import annotations

from urllib.parse import parse_qsl

from fhir_server.errors import FhirError
from fhir_server.rest.context import ServerContext
from fhir_server.search.subsearch import SessionSubSearch
from fhir_server.storage.base import StoreSession


def parse_criteria(criteria: str) -> list[tuple[str, str]]:
    params = [(k, v) for k, v in parse_qsl(criteria.lstrip("?"), keep_blank_values=True)]
    params = [(k, v) for k, v in params if not k.startswith("_format")]
    if not params:
        raise FhirError(400, "invalid", "A conditional interaction needs search criteria")
    return params


def find_matches(
    ctx: ServerContext, session: StoreSession, type_: str, criteria: str, limit: int = 2
) -> list[tuple[str, str]]:
    """Up to `limit` (type, id) matches; criteria parse strictly (an unknown parameter
    must not silently widen a conditional write to every resource)."""
    params = parse_criteria(criteria)
    parsed = ctx.parser.parse(
        (type_,), params, strict=True, subsearch=SessionSubSearch(session, ctx.indexer)
    )
    return session.match_keys((type_,), parsed.where, limit)
