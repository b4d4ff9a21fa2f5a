"""Paging tokens: the store's keyset position plus a short trail, for `previous` links.

The stores page forward only (ADR 0003). So that a client can also step back, the
`_cursor` token handed out in links carries, next to the store's position of the page,
the positions of up to TRAIL pages before it; `previous` is offered while the trail lasts
(a client that went further than that gets `first` instead).
"""

from __future__ import annotations

from fhir_server.errors import FhirError
from fhir_server.storage.cursor import decode_cursor, encode_cursor

TRAIL = 8


def unwrap(token: str | None) -> tuple[str | None, list[str | None]]:
    """(store position, positions of the pages before it; None = the first page)."""
    if token is None:
        return None, []
    value = decode_cursor(token)
    if (
        len(value) != 2
        or not isinstance(value[0], str)
        or not isinstance(value[1], list)
        or not all(p is None or isinstance(p, str) for p in value[1])
    ):
        raise FhirError(400, "invalid", "The paging cursor is not valid", ["_cursor"])
    return value[0], value[1]


def next_token(next_position: str, position: str | None, trail: list[str | None]) -> str:
    return encode_cursor([next_position, [*trail, position][-TRAIL:]])


def previous_token(trail: list[str | None]) -> tuple[bool, str | None]:
    """(whether a previous page is known, its token; None = the first page)."""
    if not trail:
        return False, None
    before = trail[-1]
    if before is None:
        return True, None
    return True, encode_cursor([before, trail[:-1]])
