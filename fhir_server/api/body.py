"""Reading request bodies under the configured size limit."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from fhir_server.errors import FhirError
from fhir_server.validation.json_body import parse_json_body


async def read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


async def read_json(request: Request, limit: int, max_depth: int) -> Any:
    return parse_json_body(await read_json_bytes(request, limit), max_depth)


async def read_json_bytes(request: Request, limit: int) -> bytes:
    """The body as sent, for interactions that parse it themselves (and again on a retry)."""
    raw = await read_body(request, limit)
    if not raw.strip():
        raise FhirError(400, "required", "The request needs a JSON body")
    return raw


def _too_large(limit: int) -> FhirError:
    return FhirError(
        413, "too-costly", f"The request body is larger than this server's limit of {limit} bytes"
    )
