"""Bundles assembled from stored JSON fragments, without parsing the resources again.

A stored body is already the exact JSON of the resource, so an entry is a few bytes of
framing around it; this keeps search, history and $everything close to I/O speed.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson

from fhir_server.errors import Issue, operation_outcome
from fhir_server.instants import fhir_instant, http_date, now_utc
from fhir_server.rest.versioning import new_id
from fhir_server.storage.records import StoredRecord


def entry(
    full_url: str | None,
    resource: bytes | None = None,
    *,
    search: dict[str, Any] | None = None,
    request: dict[str, Any] | None = None,
    response: dict[str, Any] | None = None,
) -> bytes:
    parts: list[bytes] = []
    if full_url is not None:
        parts.append(b'"fullUrl":' + orjson.dumps(full_url))
    if resource:
        parts.append(b'"resource":' + resource)
    if search is not None:
        parts.append(b'"search":' + orjson.dumps(search))
    if request is not None:
        parts.append(b'"request":' + orjson.dumps(request))
    if response is not None:
        parts.append(b'"response":' + orjson.dumps(response))
    return b"{" + b",".join(parts) + b"}"


def outcome_entries(issues: list[Issue]) -> list[bytes]:
    """A searchset's OperationOutcome entry (search.mode outcome), when there is news."""
    if not issues:
        return []
    return [entry(None, orjson.dumps(operation_outcome(issues)), search={"mode": "outcome"})]


def bundle(
    bundle_type: str,
    entries: Iterable[bytes],
    *,
    total: int | None = None,
    links: list[tuple[str, str]] | None = None,
) -> bytes:
    head: dict[str, Any] = {
        "resourceType": "Bundle",
        "id": new_id(),
        "meta": {"lastUpdated": fhir_instant(now_utc())},
        "type": bundle_type,
    }
    if total is not None:
        head["total"] = total
    if links:
        head["link"] = [{"relation": rel, "url": url} for rel, url in links]
    body = orjson.dumps(head)
    return body[:-1] + b',"entry":[' + b",".join(entries) + b"]}"


def etag(record: StoredRecord) -> str:
    return f'W/"{record.version}"'


def response_for(record: StoredRecord, status: str) -> dict[str, Any]:
    return {
        "status": status,
        "etag": etag(record),
        "lastModified": fhir_instant(record.last_updated),
    }


def last_modified_header(record: StoredRecord) -> str:
    return http_date(record.last_updated)
