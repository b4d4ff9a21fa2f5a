"""Reading reference strings into (type, id) or an absolute URL, for index and query alike.

`Patient/123`, `Patient/123/_history/2` and `<own base>/Patient/123` all name the local
resource Patient/123; an absolute URL on another server stays a URL; `#x` points inside
the resource (contained) and is not searchable; a bare `123` has no type (the caller may
know it from the parameter's single target type).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

RESOURCE_ID_RE = re.compile(r"[A-Za-z0-9\-.]{1,64}")
_LOCAL_RE = re.compile(r"([A-Z][A-Za-z]+)/([A-Za-z0-9\-.]{1,64})(?:/_history/[^/]+)?")
_ABSOLUTE_RE = re.compile(r"[a-z][a-z0-9+.\-]*:", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class ParsedReference:
    type: str | None
    id: str | None
    url: str | None = None


def normalize_bases(bases: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    return tuple(b.rstrip("/") + "/" for b in bases if b)


@lru_cache(maxsize=32_768)  # a Bundle names the same patient, encounter, doctor again and again
def parse_reference(value: str, own_bases: tuple[str, ...] = ()) -> ParsedReference | None:
    """None for contained (`#x`) and empty references. `own_bases` end with '/'."""
    value = value.strip()
    if not value or value.startswith("#"):
        return None
    m = _LOCAL_RE.fullmatch(value)
    if m is not None:
        return ParsedReference(m.group(1), m.group(2))
    if _ABSOLUTE_RE.match(value):
        for base in own_bases:
            if value.startswith(base):
                m = _LOCAL_RE.fullmatch(value[len(base) :])
                if m is not None:
                    return ParsedReference(m.group(1), m.group(2))
        return ParsedReference(None, None, value)
    if RESOURCE_ID_RE.fullmatch(value):
        return ParsedReference(None, value)
    return ParsedReference(None, None, value)


def reference_type(reference: dict, own_bases: tuple[str, ...] = ()) -> str | None:
    """The target type of a Reference element: from its string, else its `type` uri/code."""
    ref = reference.get("reference")
    if isinstance(ref, str):
        parsed = parse_reference(ref, own_bases)
        if parsed is not None and parsed.type is not None:
            return parsed.type
        if parsed is not None and parsed.url is not None:
            # A foreign absolute URL still names its type: .../Patient/123
            parts = parsed.url.rstrip("/").split("/")
            if len(parts) >= 2 and parts[-2][:1].isupper():
                return parts[-2]
            if len(parts) >= 4 and parts[-2] == "_history" and parts[-4][:1].isupper():
                return parts[-4]
    declared = reference.get("type")
    if isinstance(declared, str):
        return declared.rsplit("/", 1)[-1]
    return None


def canonical_variants(value: str) -> list[str]:
    """A canonical `url|version` is findable with and without its version."""
    if "|" in value:
        url = value.split("|", 1)[0]
        return [value, url] if url else [value]
    return [value]
