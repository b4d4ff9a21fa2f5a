"""FHIR date/dateTime/instant values as inclusive epoch-microsecond ranges.

A FHIR date is a range at its written precision: "2020" is every instant of 2020. Both
the index and the query side use `date_range`, so a stored value and a search value are
compared in the same representation: [low, high], both bounds INCLUSIVE, integers in
microseconds since 1970-01-01T00:00:00Z. A value written without a zone (including plain
dates) is read in the configured default zone.
"""

from __future__ import annotations

import calendar
import re
from datetime import UTC, date, datetime, timedelta, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo

_DATE_RE = re.compile(
    r"(\d{4})(?:-(\d{2})(?:-(\d{2})"
    r"(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(Z|[+-]\d{2}:\d{2})?)?)?)?"
)
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_US = 1_000_000
_DAY_US = 86_400 * _US


@lru_cache(maxsize=64)
def zone(name: str) -> tzinfo:
    """The tzinfo for a zone name ("UTC", "Asia/Kolkata"); raises ValueError if unknown."""
    if name.upper() in ("UTC", "Z"):
        return UTC
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r}") from exc


def _local_us(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0) -> int:
    days = date(y, mo, d).toordinal() - _EPOCH_ORDINAL
    return (days * 86_400 + h * 3600 + mi * 60 + s) * _US


def _offset_us(tz: tzinfo, y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> int:
    if tz is UTC:
        return 0
    offset = tz.utcoffset(datetime(y, mo, d, h, mi))
    return 0 if offset is None else offset // timedelta(microseconds=1)


def _fixed_offset_us(text: str) -> int:
    if text == "Z":
        return 0
    sign = -1 if text[0] == "-" else 1
    return sign * (int(text[1:3]) * 3600 + int(text[4:6]) * 60) * _US


def date_range(value: str, default_tz: tzinfo = UTC) -> tuple[int, int]:
    """Inclusive [low, high] epoch microseconds of a FHIR date/dateTime/instant.

    Raises ValueError for anything that is not a valid FHIR date value.
    """
    if len(value) >= 20 and value[10] == "T" and (value[-1] == "Z" or value[-3] == ":"):
        fast = _zoned_datetime_range(value)
        if fast is not None:
            return fast
    m = _DATE_RE.fullmatch(value)
    if m is None:
        raise ValueError(f"not a FHIR date: {value!r}")
    ys, mos, ds, hs, mis, ss, frac, tzs = m.groups()
    y = int(ys)
    if y < 1:
        raise ValueError(f"not a FHIR date: {value!r}")
    if mos is None:
        low = _local_us(y, 1, 1) - _offset_us(default_tz, y, 1, 1)
        if y == 9999:
            return low, _local_us(9999, 12, 31) + _DAY_US - 1 - _offset_us(default_tz, y, 12, 31)
        return low, _local_us(y + 1, 1, 1) - _offset_us(default_tz, y + 1, 1, 1) - 1
    mo = int(mos)
    if not 1 <= mo <= 12:
        raise ValueError(f"month out of range in {value!r}")
    if ds is None:
        last = calendar.monthrange(y, mo)[1]
        low = _local_us(y, mo, 1) - _offset_us(default_tz, y, mo, 1)
        end = _local_us(y, mo, last) + _DAY_US - _offset_us(default_tz, y, mo, last, 23, 59)
        return low, end - 1
    d = int(ds)
    if not 1 <= d <= calendar.monthrange(y, mo)[1]:
        raise ValueError(f"day out of range in {value!r}")
    if hs is None:
        low = _local_us(y, mo, d) - _offset_us(default_tz, y, mo, d)
        return low, _local_us(y, mo, d) + _DAY_US - _offset_us(default_tz, y, mo, d, 23, 59) - 1
    h, mi = int(hs), int(mis)
    s = int(ss) if ss is not None else 0
    if h > 23 or mi > 59 or s > 59:
        raise ValueError(f"time out of range in {value!r}")
    offset = _fixed_offset_us(tzs) if tzs is not None else _offset_us(default_tz, y, mo, d, h, mi)
    low = _local_us(y, mo, d) + (h * 3600 + mi * 60 + s) * _US - offset
    if ss is None:
        width = 60 * _US
    elif frac is None:
        width = _US
    else:
        digits = frac[:6]
        low += int(digits.ljust(6, "0"))
        width = 10 ** (6 - len(digits))
    return low, low + width - 1


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_US = timedelta(microseconds=1)


def _zoned_datetime_range(value: str) -> tuple[int, int] | None:
    """Fast path for the common full dateTime/instant with a zone (most stored data)."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None or (len(value) < 25 and value[-1] != "Z"):
        return None
    low = (moment - _EPOCH) // _ONE_US
    dot = value.find(".", 19)
    if dot == -1:
        return low, low + _US - 1
    end = dot + 1
    while end < len(value) and value[end].isdigit():
        end += 1
    digits = min(end - dot - 1, 6)
    if digits == 0:
        return None
    return low, low + 10 ** (6 - digits) - 1
