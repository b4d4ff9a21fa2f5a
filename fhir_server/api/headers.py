"""Conditional and Prefer request headers, parsed into plain values."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from fhir_server.errors import FhirError

_ETAG = re.compile(r'^\s*(?:W/)?"?(\d+)"?\s*$')


def parse_etag(value: str | None, header: str) -> int | None:
    if value is None:
        return None
    match = _ETAG.match(value)
    if not match:
        raise FhirError(
            400, "invalid", f'{header} must be a version ETag like W/"3", got {value!r}', [header]
        )
    return int(match.group(1))


def parse_http_date(value: str | None, header: str) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError) as exc:
        raise FhirError(
            400, "invalid", f"{header} is not an HTTP date: {value!r}", [header]
        ) from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Prefer:
    return_: str = "representation"  # minimal | representation | OperationOutcome
    handling: str = "lenient"  # strict | lenient
    respond_async: bool = False


def parse_prefer(value: str | None) -> Prefer:
    if not value:
        return Prefer()
    return_, handling, respond_async = "representation", "lenient", False
    for token in value.split(","):
        for item in token.split(";"):
            key, _, raw = item.strip().partition("=")
            raw = raw.strip().strip('"')
            key = key.strip().lower()
            if key == "return" and raw in ("minimal", "representation", "OperationOutcome"):
                return_ = raw
            elif key == "handling" and raw in ("strict", "lenient"):
                handling = raw
            elif key == "respond-async":
                respond_async = True
    return Prefer(return_, handling, respond_async)
