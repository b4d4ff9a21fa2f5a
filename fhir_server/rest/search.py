"""search: type, system and compartment level, with _include/_revinclude and paging.

The page is chosen by one keyset query; includes follow as batched look-ups of the
page's references; the Bundle is assembled from stored bytes (rest/bundles.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlencode

import orjson

from fhir_server.errors import FhirError, Issue
from fhir_server.rest import page_trail
from fhir_server.rest.bundles import bundle, outcome_entries
from fhir_server.rest.context import RequestInfo, ServerContext
from fhir_server.rest.results import InteractionResult
from fhir_server.rest.subsetting import subset
from fhir_server.rest.versioning import check_id
from fhir_server.search.result_params import ResultParameters
from fhir_server.search.subsearch import SessionSubSearch
from fhir_server.security.acting import current_principal
from fhir_server.security.consent import visibility
from fhir_server.security.patient_context import patient_compartment
from fhir_server.security.scope_queries import search_restriction
from fhir_server.security.withholding import withhold_unreadable
from fhir_server.storage.base import StoreSession
from fhir_server.storage.query import And, InCompartment, Predicate, Reference, SearchQuery
from fhir_server.storage.records import StoredRecord

CURSOR = "_cursor"
MAX_INCLUDED = 5_000  # per page; beyond it the Bundle says what was left out


def search(
    ctx: ServerContext,
    request: RequestInfo,
    types: tuple[str, ...],
    params: Sequence[tuple[str, str]],
    compartment: tuple[str, str] | None = None,
) -> InteractionResult:
    token = next((v for k, v in params if k == CURSOR), None)
    cursor, trail = page_trail.unwrap(token)
    criteria = [(k, v) for k, v in params if k != CURSOR]
    with ctx.store.session() as session:
        parsed = ctx.parser.parse(
            types, criteria, strict=request.strict, subsearch=SessionSubSearch(session, ctx.indexer)
        )
        query_types = parsed.types  # a system search narrows by _type
        where: Predicate | None = parsed.where
        if compartment is not None:
            scope = InCompartment((compartment[1],))
            where = scope if where is None else And((scope, where))
        for limit in (
            patient_compartment(query_types),  # a patient/ token: its Patient's compartment
            search_restriction(ctx, session, query_types),  # a query-restricted scope
        ):
            if limit is not None:  # in the query itself, so totals count only what is seen
                where = limit if where is None else And((limit, where))
        result = parsed.result
        issues: list[Issue] = list(parsed.warnings)
        if result.summary == "count" or result.count == 0:
            total = session.count(query_types, where)
            body = bundle(
                "searchset",
                outcome_entries(issues),
                total=total,
                links=[("self", _link(request, types, compartment, criteria))],
            )
            return InteractionResult(200, body=body)
        page = session.search(
            SearchQuery(
                types=query_types,
                where=where,
                sort=result.sort,
                count=result.count,
                cursor=cursor,
                total=result.total,
            )
        )
        boundary = visibility(ctx, session)
        page.records = boundary.filter(page.records, issues)
        included = boundary.filter(_includes(ctx, session, page.records, result, issues), issues)
    principal = current_principal()
    if principal is not None:
        included = withhold_unreadable(principal, included, issues)
    total = page.total
    total_refused = any(k == "_total" and v == "none" for k, v in criteria)
    if total is None and cursor is None and page.next_cursor is None and not total_refused:
        total = len(page.records)  # the whole result is on this page: the total is free
    entries = _entries(request.base_url, page.records, "match", result)
    entries += _entries(request.base_url, included, "include", result)
    entries += outcome_entries(issues)
    first = _link(request, types, compartment, criteria)
    links = [
        ("self", first if token is None else _page(request, types, compartment, criteria, token))
    ]
    if token is not None:
        links.append(("first", first))
        known, previous = page_trail.previous_token(trail)
        if known:
            links.append(("previous", _page(request, types, compartment, criteria, previous)))
    if page.next_cursor:
        following = page_trail.next_token(page.next_cursor, cursor, trail)
        links.append(("next", _page(request, types, compartment, criteria, following)))
    return InteractionResult(200, body=bundle("searchset", entries, total=total, links=links))


def _page(
    request: RequestInfo,
    types: tuple[str, ...],
    compartment: tuple[str, str] | None,
    criteria: Sequence[tuple[str, str]],
    token: str | None,
) -> str:
    params = list(criteria) if token is None else [*criteria, (CURSOR, token)]
    return _link(request, types, compartment, params)


def compartment_search(
    ctx: ServerContext,
    request: RequestInfo,
    compartment_type: str,
    compartment_id: str,
    type_: str,
    params: Sequence[tuple[str, str]],
) -> InteractionResult:
    check_id(compartment_id)
    if compartment_type != "Patient":
        raise FhirError(
            400,
            "not-supported",
            f"Only the Patient compartment is supported, not {compartment_type}",
        )
    return search(ctx, request, (type_,), params, compartment=(compartment_type, compartment_id))


def _includes(
    ctx: ServerContext,
    session: StoreSession,
    page: list[StoredRecord],
    result: ResultParameters,
    issues: list[Issue],
) -> list[StoredRecord]:
    if not page or not (result.include or result.revinclude):
        return []
    seen = {(r.type, r.id) for r in page}
    found: list[StoredRecord] = []
    frontier = list(page)
    first_round = True
    while frontier:
        wanted: dict[tuple[str, str], None] = {}
        for spec in result.include:
            if not (first_round or spec.iterate):
                continue
            for record in frontier:
                if spec.source_type not in ("*", record.type):
                    continue
                resource = orjson.loads(record.body)
                for code in _include_codes(ctx, record.type, spec.param):
                    for ref in ctx.indexer.references(resource, code):
                        if ref.target_type is None or ref.target_id is None:
                            continue
                        if spec.target_type and ref.target_type != spec.target_type:
                            continue
                        key = (ref.target_type, ref.target_id)
                        if key not in seen:
                            wanted[key] = None
        new = list(session.read_many(wanted).values())
        for spec in result.revinclude:
            if not (first_round or spec.iterate):
                continue
            targets = tuple((r.type, r.id) for r in frontier)
            if spec.param == "*":
                codes = [
                    code
                    for code, p in ctx.registry.for_type(spec.source_type).items()
                    if p.type == "reference"
                ]
            else:
                codes = [spec.param]
            for code in codes:
                keys = session.match_keys(
                    (spec.source_type,), Reference(code, targets), limit=MAX_INCLUDED + 1
                )
                keys = [k for k in keys if k not in seen]
                new += session.read_many(keys).values()
        fresh = []
        for record in new:
            key = (record.type, record.id)
            if key not in seen:
                seen.add(key)
                fresh.append(record)
        found += fresh
        if len(found) > MAX_INCLUDED:
            issues.append(
                Issue(
                    "warning",
                    "too-costly",
                    f"More than {MAX_INCLUDED} included resources; the rest were left out",
                )
            )
            return found[:MAX_INCLUDED]
        frontier = fresh
        first_round = False
        if not any(s.iterate for s in (*result.include, *result.revinclude)):
            break
    return found


def _entries(
    base_url: str, records: list[StoredRecord], mode: str, result: ResultParameters
) -> list[bytes]:
    """Bundle entries as byte templates: this loop runs once per streamed resource.

    Same bytes as `bundles.entry`; types and ids need no JSON escaping (their syntax
    allows none of `"` or `\\`), so only the base URL is escaped, once.
    """
    head = b'{"fullUrl":' + orjson.dumps(base_url + "/")[:-1]
    tail = b',"search":{"mode":"' + mode.encode() + b'"}}'
    whole = result.summary in (None, "false") and not result.elements
    return [
        b"".join(
            (
                head,
                r.type.encode(),
                b"/",
                r.id.encode(),
                b'","resource":',
                r.body if whole else subset(r.body, result.summary, result.elements),
                tail,
            )
        )
        for r in records
    ]


def _include_codes(ctx: ServerContext, type_: str, param: str) -> list[str]:
    if param != "*":
        return [param]
    return [code for code, p in ctx.registry.for_type(type_).items() if p.type == "reference"]


def _link(
    request: RequestInfo,
    types: tuple[str, ...],
    compartment: tuple[str, str] | None,
    params: Sequence[tuple[str, str]],
) -> str:
    path = ""
    if compartment is not None:
        path = f"/{compartment[0]}/{compartment[1]}"
    if len(types) == 1:
        path += f"/{types[0]}"
    url = request.base_url + path
    return f"{url}?{urlencode(list(params))}" if params else url
