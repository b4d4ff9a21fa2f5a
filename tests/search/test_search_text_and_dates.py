"""String normalisation and FHIR date precision ranges."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from fhir_server.instants import to_micros
from fhir_server.search.dates import date_range, zone
from fhir_server.search.normalize import normalize_text

IST = zone("Asia/Kolkata")


def us(*args: int, tz: object = UTC) -> int:
    return to_micros(datetime(*args, tzinfo=tz))  # type: ignore[arg-type, misc]


@pytest.mark.parametrize(
    ("written", "normalised"),
    [
        ("Müller", "muller"),
        ("  José   GARCÍA ", "jose garcia"),
        ("Straße", "strasse"),
        ("Søren Łukasz", "soren lukasz"),
        ("ﬁnance", "finance"),  # NFKD expands compatibility ligatures
    ],
)
def test_latin_text_is_casefolded_and_accent_free(written: str, normalised: str) -> None:
    assert normalize_text(written) == normalised


def test_devanagari_vowel_signs_are_kept() -> None:
    # U+0941 (u-sign) and U+093E (aa-sign) are combining marks: stripping marks blindly
    # would turn कुमार into कमर.
    assert normalize_text("राम कुमार") == "राम कुमार"
    assert "\u0941" in normalize_text("कुमार")
    assert normalize_text("राम कुमार").startswith(normalize_text("राम"))


def test_devanagari_nukta_forms_compare_equal() -> None:
    # U+0958 (qa) is canonically क + nukta: both spellings normalise the same.
    assert normalize_text("\u0958") == normalize_text("\u0915\u093c")


def test_date_year_covers_the_whole_year() -> None:
    assert date_range("2020") == (us(2020, 1, 1), us(2021, 1, 1) - 1)


def test_date_month_covers_the_whole_month_including_leap_day() -> None:
    assert date_range("2020-02") == (us(2020, 2, 1), us(2020, 3, 1) - 1)


def test_date_day_covers_the_whole_day() -> None:
    assert date_range("2020-02-29") == (us(2020, 2, 29), us(2020, 3, 1) - 1)


def test_datetime_second_precision_is_one_second_wide() -> None:
    low, high = date_range("2020-01-01T10:00:00Z")
    assert (low, high) == (us(2020, 1, 1, 10), us(2020, 1, 1, 10) + 999_999)


def test_datetime_minute_precision_is_one_minute_wide() -> None:
    low, high = date_range("2020-01-01T10:00Z")
    assert high - low + 1 == 60_000_000


def test_datetime_fraction_precision_follows_the_digits() -> None:
    low, high = date_range("2020-01-01T10:00:00.123Z")
    assert (low, high) == (us(2020, 1, 1, 10) + 123_000, us(2020, 1, 1, 10) + 123_999)


def test_datetime_with_offset_is_converted_to_utc() -> None:
    assert date_range("2020-01-01T10:00:00+05:30")[0] == us(2020, 1, 1, 4, 30)


def test_value_without_zone_uses_the_default_zone() -> None:
    assert date_range("2020-01-01T10:00:00", IST)[0] == us(2020, 1, 1, 4, 30)
    assert date_range("2020-01-01", IST) == (
        us(2020, 1, 1, tz=IST),
        us(2020, 1, 2, tz=IST) - 1,
    )


def test_last_year_of_the_calendar_does_not_overflow() -> None:
    low, high = date_range("9999")
    assert high == us(9999, 12, 31, 23, 59, 59) + 999_999 and low < high


@pytest.mark.parametrize(
    "value",
    [
        "2010-06-24T03:34:24-04:00",
        "2010-06-24T03:34:24.187-04:00",
        "2010-06-24T03:34:24Z",
        "2010-06-24T03:34:24.1234567+05:30",
        "2019-02-12T09:49:11.000+00:00",
    ],
)
def test_fast_path_agrees_with_the_general_parser(value: str) -> None:
    from fhir_server.search import dates

    m = dates._DATE_RE.fullmatch(value)
    assert m is not None
    fast = dates._zoned_datetime_range(value)
    # the general parser: force it by adding nothing the fast path accepts
    y, mo, d, h, mi, s, frac, tz = m.groups()
    offset = dates._fixed_offset_us(tz)
    low = dates._local_us(int(y), int(mo), int(d), int(h), int(mi), int(s)) - offset
    digits = (frac or "")[:6]
    low += int(digits.ljust(6, "0")) if digits else 0
    width = 10 ** (6 - len(digits)) if digits else 1_000_000
    assert fast == (low, low + width - 1) == date_range(value)


@pytest.mark.parametrize(
    "value", ["20", "2020-13", "2020-02-30", "2020-01-01T25:00Z", "yesterday", "2020-1-1", ""]
)
def test_malformed_dates_are_rejected(value: str) -> None:
    with pytest.raises(ValueError):
        date_range(value)


def test_unknown_zone_is_rejected() -> None:
    with pytest.raises(ValueError):
        zone("Mars/Olympus")
