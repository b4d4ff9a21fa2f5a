"""Formats in and out: FHIR JSON only (XML is answered with 406/415 until supported)."""

from __future__ import annotations

from starlette.requests import Request

from fhir_server.errors import FhirError

FHIR_JSON = "application/fhir+json"
JSON = "application/json"
JSON_PATCH = "application/json-patch+json"
_JSON_FORMATS = {
    "json": FHIR_JSON,
    FHIR_JSON: FHIR_JSON,
    JSON: JSON,
    "application/json+fhir": FHIR_JSON,
    "text/json": JSON,
}


def response_media_type(request: Request) -> str:
    """The media type to answer with, from `_format` (wins) or `Accept`."""
    fmt = request.query_params.get("_format")
    if fmt is not None:
        # an unencoded '+' in a query string arrives as a space
        chosen = _JSON_FORMATS.get(fmt.split(";")[0].strip().lower().replace(" ", "+"))
        if chosen is None:
            raise FhirError(
                406, "not-supported", f"_format {fmt!r} is not supported: this server speaks JSON"
            )
        return chosen
    accept = request.headers.get("accept", "")
    if not accept.strip():
        return FHIR_JSON
    ranges = [part.split(";")[0].strip().lower() for part in accept.split(",")]
    for media in ranges:
        if media in (FHIR_JSON, "application/json+fhir", "*/*", "application/*"):
            return FHIR_JSON
        if media in (JSON, "text/json"):
            return JSON
    if any(m.endswith("html") or m == "text/*" for m in ranges):
        return FHIR_JSON  # browsers: show the JSON rather than refuse
    raise FhirError(
        406,
        "not-supported",
        f"Cannot answer in {accept!r}: this server produces application/fhir+json"
        " (XML is not supported yet)",
    )


def request_media_type(request: Request, allowed: tuple[str, ...] = (FHIR_JSON, JSON)) -> str:
    """The body's media type; missing means FHIR JSON. Anything else is 415."""
    raw = request.headers.get("content-type", "")
    media = raw.split(";")[0].strip().lower()
    if not media:
        return FHIR_JSON
    if media == "application/json+fhir":
        media = FHIR_JSON
    if media in allowed:
        return media
    hint = " (XML is not supported yet)" if "xml" in media else ""
    raise FhirError(
        415,
        "not-supported",
        f"Content-Type {raw!r} is not accepted here{hint}; use one of {', '.join(allowed)}",
    )
