"""Reading one search value: escapes, prefixes, numbers, dates, quantities, tokens.

FHIR escapes `,` `|` `$` and `\\` with a backslash (search.html#escaping). Values are split
on the unescaped separator first and unescaped last, so `a\\,b` stays one value.
Prefix semantics (search.html#prefix), with the search value's range [lo, hi] and the
stored range [low, high] (a stored point has low == high):

    eq  low >= lo and high <= hi          (the search range contains the stored one)
    gt  high > hi          lt  low < lo
    ge  high > hi  or  eq                 le  low < lo  or  eq
    sa  low > hi           eb  high < lo
    ap  overlaps [lo - d, hi + d], d = 10% of the value (numbers) or of its distance from now
    ne  not eq

Dates carry their own precision range (inclusive microseconds). A number's implicit
precision applies to `eq`/`ne`/`ap` only ("100" is [99.5, 100.5)); other prefixes compare
with the exact value, as the spec says.
"""

from __future__ import annotations

import re
from datetime import tzinfo
from decimal import Decimal, InvalidOperation

from fhir_server.errors import FhirError, bad_request
from fhir_server.search.dates import date_range

Condition = tuple[str, str, float]
# Alternatives (OR) of condition sets (AND) on one stored range.
Conditions = tuple[tuple[Condition, ...], ...]

PREFIXES = ("eq", "ne", "gt", "lt", "ge", "le", "sa", "eb", "ap")
_PREFIX_RE = re.compile(r"(eq|ne|gt|lt|ge|le|sa|eb|ap)?(.*)", re.DOTALL)
_NUMBER_RE = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def split_unescaped(text: str, sep: str) -> list[str]:
    """Split on `sep` not preceded by a backslash escape (pieces stay escaped)."""
    parts: list[str] = []
    current: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            current.append(text[i : i + 2])
            i += 2
            continue
        if ch == sep:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
        i += 1
    parts.append("".join(current))
    return parts


def unescape(text: str) -> str:
    if "\\" not in text:
        return text
    return re.sub(r"\\([\\,|$])", r"\1", text)


def split_prefix(raw: str) -> tuple[str, str]:
    m = _PREFIX_RE.fullmatch(raw)
    assert m is not None
    prefix, rest = m.group(1) or "eq", m.group(2)
    # "eb" is also how e.g. a hex-looking value starts; only take it as a prefix if the
    # rest reads as a number/date, which the callers check and report.
    return prefix, rest


def parse_decimal(text: str, param: str) -> Decimal:
    if not _NUMBER_RE.fullmatch(text):
        raise bad_request(f"Parameter '{param}': '{text}' is not a number", [param])
    try:
        return Decimal(text)
    except InvalidOperation as exc:
        raise bad_request(f"Parameter '{param}': '{text}' is not a number", [param]) from exc


def number_conditions(prefix: str, value: Decimal) -> Conditions:
    v = float(value)
    if prefix in ("eq", "ne"):
        half = Decimal(5).scaleb(value.as_tuple().exponent - 1)  # type: ignore[operator]
        lo, hi = float(value - half), float(value + half)
        return ((("low", ">=", lo), ("high", "<", hi)),)
    if prefix == "ap":
        d = abs(v) * 0.1
        return ((("low", "<=", v + d), ("high", ">=", v - d)),)
    return {
        "gt": ((("high", ">", v),),),
        "lt": ((("low", "<", v),),),
        "ge": ((("high", ">=", v),),),
        "le": ((("low", "<=", v),),),
        "sa": ((("low", ">", v),),),
        "eb": ((("high", "<", v),),),
    }[prefix]


def parse_date_value(text: str, param: str, tz: tzinfo) -> tuple[int, int]:
    try:
        return date_range(text, tz)
    except ValueError as exc:
        raise bad_request(
            f"Parameter '{param}': '{text}' is not a valid date (YYYY, YYYY-MM, YYYY-MM-DD or "
            "YYYY-MM-DDThh:mm[:ss[.fff]][Z|+hh:mm])",
            [param],
        ) from exc


def date_conditions(prefix: str, lo: int, hi: int, now_us: int) -> Conditions:
    eq: tuple[Condition, ...] = (("low", ">=", lo), ("high", "<=", hi))
    if prefix in ("eq", "ne"):
        return (eq,)
    if prefix == "ap":
        d = abs(now_us - (lo + hi) // 2) // 10
        return ((("low", "<=", hi + d), ("high", ">=", lo - d)),)
    return {
        "gt": ((("high", ">", hi),),),
        "lt": ((("low", "<", lo),),),
        "ge": ((("high", ">", hi),), eq),
        "le": ((("low", "<", lo),), eq),
        "sa": ((("low", ">", hi),),),
        "eb": ((("high", "<", lo),),),
    }[prefix]


def parse_quantity(raw: str, param: str) -> tuple[str, Decimal, str | None, str | None]:
    """(prefix, number, system, code) of `[prefix]number[|system|code]`."""
    parts = split_unescaped(raw, "|")
    if len(parts) not in (1, 3):
        raise bad_request(
            f"Parameter '{param}': quantity '{raw}' must be [prefix]number or "
            "[prefix]number|system|code",
            [param],
        )
    prefix, number = split_prefix(parts[0])
    value = parse_decimal(number, param)
    system = unescape(parts[1]) or None if len(parts) == 3 else None
    code = unescape(parts[2]) or None if len(parts) == 3 else None
    return prefix, value, system, code


def parse_token(raw: str, param: str) -> tuple[str | None, str | None, bool]:
    """(system, code, no_system) of `code`, `system|code`, `|code` or `system|`."""
    parts = split_unescaped(raw, "|")
    if len(parts) == 1:
        return None, unescape(parts[0]), False
    if len(parts) == 2:
        system, code = unescape(parts[0]), unescape(parts[1])
        if not system and not code:
            raise bad_request(f"Parameter '{param}': '|' alone is not a token", [param])
        if not system:
            return None, code, True
        return system, code or None, False
    raise bad_request(
        f"Parameter '{param}': token '{raw}' has more than one unescaped '|'", [param]
    )


def reject(param: str, message: str) -> FhirError:
    return bad_request(f"Parameter '{param}': {message}", [param])
