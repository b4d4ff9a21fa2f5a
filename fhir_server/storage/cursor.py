"""Opaque keyset cursors: the position after the last row of a page."""

from __future__ import annotations

import base64
import binascii
from typing import Any

import orjson

from fhir_server.errors import FhirError


def encode_cursor(position: list[Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(position)).decode().rstrip("=")


def decode_cursor(cursor: str) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = orjson.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, orjson.JSONDecodeError) as exc:
        raise FhirError(400, "invalid", "The paging cursor is not valid", ["_cursor"]) from exc
    if not isinstance(value, list):
        raise FhirError(400, "invalid", "The paging cursor is not valid", ["_cursor"])
    return value
