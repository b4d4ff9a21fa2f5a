"""Text normalisation shared by index extraction and query parsing.

FHIR string search is case- and accent-insensitive. Both sides go through `normalize_text`
so a stored value and a search value compare equal exactly when they should.

Accents are removed by NFKD decomposition and then dropping only the *generic* combining
diacritics (U+0300-036F and the other "combining diacritical marks" blocks), which is what
Latin, Greek and Cyrillic accents decompose to. Indic scripts also decompose into base
letters plus combining marks, but there the marks are vowel signs and viramas that carry
meaning (dropping U+0941 would turn "कुमार" into "कमार"), so marks outside those blocks
are kept.
"""

from __future__ import annotations

import unicodedata

# Latin letters with a built-in stroke or ligature do not decompose under NFKD.
_LATIN_FOLDS = str.maketrans(
    {"ø": "o", "ł": "l", "đ": "d", "ħ": "h", "\u0131": "i", "æ": "ae", "œ": "oe", "þ": "th"}
)


def _is_generic_diacritic(ch: str) -> bool:
    cp = ord(ch)
    return (
        0x0300 <= cp <= 0x036F
        or 0x1AB0 <= cp <= 0x1AFF
        or 0x1DC0 <= cp <= 0x1DFF
        or 0x20D0 <= cp <= 0x20FF
        or 0xFE20 <= cp <= 0xFE2F
    )


def normalize_text(value: str) -> str:
    """Casefolded, accent-free, whitespace-collapsed form used for matching."""
    if value.isascii():
        return " ".join(value.lower().split())
    decomposed = unicodedata.normalize("NFKD", value)
    stripped = "".join(ch for ch in decomposed if not _is_generic_diacritic(ch))
    folded = stripped.casefold().translate(_LATIN_FOLDS)
    # casefold can re-introduce composed forms' pieces; NFC keeps Indic text in its
    # canonical composed shape so equal words stay byte-equal.
    return " ".join(unicodedata.normalize("NFC", folded).split())
