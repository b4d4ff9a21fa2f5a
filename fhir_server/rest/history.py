"""history: instance, type and system level, newest first, paged by keyset cursor."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from urllib.parse import urlencode

from fhir_server.errors import FhirError, Issue
from fhir_server.instants import from_micros
from fhir_server.rest.bundles import bundle, entry, outcome_entries, response_for
from fhir_server.rest.context import RequestInfo, ServerContext
from fhir_server.rest.read import _present
from fhir_server.rest.results import InteractionResult
from fhir_server.rest.versioning import check_id
from fhir_server.search.dates import date_range, zone
from fhir_server.security.consent import visibility
from fhir_server.storage.base import HistoryQuery

_STATUS = {"POST": "201 Created", "PUT": "200 OK", "PATCH": "200 OK", "DELETE": "204 No Content"}


def history(
    ctx: ServerContext,
    request: RequestInfo,
    params: Sequence[tuple[str, str]],
    type_: str | None = None,
    id_: str | None = None,
) -> InteractionResult:
    query = _history_query(ctx, params, type_, id_)
    with ctx.store.session() as session:
        if id_ is not None and type_ is not None:
            check_id(id_)
            current = session.read(type_, id_)
            if current is None:
                _present(current, f"{type_}/{id_}")
        page = session.history(query)
        issues: list[Issue] = []
        records = visibility(ctx, session).filter(page.records, issues)
    entries = []
    for record in records:
        url = f"{record.type}/{record.id}"
        full_url = f"{request.base_url}/{url}"
        method = "DELETE" if record.deleted else record.method
        entries.append(
            entry(
                full_url,
                None if record.deleted else record.body,
                request={"method": method, "url": record.type if method == "POST" else url},
                response=response_for(record, _STATUS.get(method, "200 OK")),
            )
        )
    path = "/".join(p for p in (type_, id_) if p) + ("/_history" if type_ else "_history")
    self_params = [(k, v) for k, v in params if k != "_cursor"]
    links = [("self", _link(request, path, self_params))]
    if page.next_cursor:
        links.append(("next", _link(request, path, [*self_params, ("_cursor", page.next_cursor)])))
    body = bundle("history", entries + outcome_entries(issues), total=page.total, links=links)
    return InteractionResult(200, body=body)


def _link(request: RequestInfo, path: str, params: Sequence[tuple[str, str]]) -> str:
    url = f"{request.base_url}/{path}"
    return f"{url}?{urlencode(list(params))}" if params else url


def _history_query(
    ctx: ServerContext,
    params: Sequence[tuple[str, str]],
    type_: str | None,
    id_: str | None,
) -> HistoryQuery:
    since: datetime | None = None
    at: tuple[datetime, datetime] | None = None
    count = ctx.settings.default_count
    cursor: str | None = None
    tz = ctx.settings.default_timezone
    for name, value in params:
        if name == "_since":
            low, _high = _date_range(value, tz, "_since")
            since = from_micros(low)
        elif name == "_at":
            low, high = _date_range(value, tz, "_at")
            at = (from_micros(low), from_micros(high + 1))
        elif name == "_count":
            if not value.isdigit() or not 0 < int(value) <= ctx.settings.max_count:
                raise FhirError(
                    400,
                    "invalid",
                    f"_count must be an integer from 1 to {ctx.settings.max_count}, got {value!r}",
                    ["_count"],
                )
            count = int(value)
        elif name == "_cursor":
            cursor = value
    return HistoryQuery(type=type_, id=id_, since=since, at=at, count=count, cursor=cursor)


def _date_range(value: str, tz: str, name: str) -> tuple[int, int]:
    try:
        return date_range(value, zone(tz))
    except ValueError as exc:
        raise FhirError(400, "invalid", f"{name}: {exc}", [name]) from exc
