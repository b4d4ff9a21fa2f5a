"""Serve the record page and its assets from the package, with a strict CSP.

A fixed allow-list of files (not a StaticFiles mount) keeps path handling trivial and
lets every response carry the same security headers; the page is small enough that
nothing here needs caching tricks.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException
from starlette.responses import FileResponse

STATIC = Path(__file__).resolve().parent / "static"

# file name -> media type; anything else under /record/ is a 404
ASSETS: dict[str, str] = {
    "record.css": "text/css; charset=utf-8",
    "record.js": "text/javascript; charset=utf-8",
    "abha.js": "text/javascript; charset=utf-8",
    "fhir.js": "text/javascript; charset=utf-8",
    "i18n.js": "text/javascript; charset=utf-8",
    "render.js": "text/javascript; charset=utf-8",
    "timeline.js": "text/javascript; charset=utf-8",
}

# Same-origin scripts, styles and fetches only: no inline script, no CDN, no framing.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self';"
    " img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS: dict[str, str] = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    # the page shows health data: keep it out of shared caches and referrers
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}

router = APIRouter(include_in_schema=False)


@router.get("/record")
async def record_page() -> FileResponse:
    return _file("record.html", "text/html; charset=utf-8")


@router.get("/record/{name}")
async def record_asset(name: str) -> FileResponse:
    media_type = ASSETS.get(name)
    if media_type is None:
        raise HTTPException(status_code=404)
    return _file(name, media_type)


def _file(name: str, media_type: str) -> FileResponse:
    return FileResponse(STATIC / name, media_type=media_type, headers=SECURITY_HEADERS)
