"""JSON values found by a parameter's expression, turned into index values by kind.

The expression yields raw JSON (dicts, strings, numbers); the data type is read from the
shape, since search expressions and choice keys already narrowed it: a dict with `coding`
is a CodeableConcept, one with `reference` a Reference, and so on.

Encodings chosen here (the query parser produces the same forms):
- Identifier types for `:of-type`: an extra TokenValue under param "<code>:of-type" with
  system = the type coding's system and code = "<type code>|<identifier value>".
- Reference identifiers for `:identifier`: TokenValue under "<code>:identifier".
- number: RangeValue(low=high=value); the query side widens the *search* value by its
  implicit precision. quantity: QuantityValue(low=high=value); a Range gives its bounds
  (a missing bound is -inf/+inf); Money uses system urn:iso:std:iso:4217 and the currency.
- date: RangeValue of inclusive epoch microseconds at the value's precision; a Period's
  missing start/end is None (unbounded).
"""

from __future__ import annotations

import math
from datetime import tzinfo
from typing import Any

from fhir_server.abdm import abha
from fhir_server.search.dates import date_range
from fhir_server.search.normalize import normalize_text
from fhir_server.search.references import canonical_variants, parse_reference
from fhir_server.storage.records import (
    QuantityValue,
    RangeValue,
    ReferenceValue,
    StringValue,
    TokenValue,
    UriValue,
)

CONTACT_POINT_SYSTEMS = frozenset({"phone", "fax", "email", "pager", "url", "sms", "other"})
CURRENCY_SYSTEM = "urn:iso:std:iso:4217"
_NAME_PARTS = ("prefix", "given", "family", "suffix")
_ADDRESS_PARTS = ("line", "city", "district", "state", "postalCode", "country")


def _norm_or_none(text: Any) -> str | None:
    return normalize_text(text) if isinstance(text, str) and text else None


def _is_number(value: Any) -> bool:
    return type(value) in (int, float)


# ---- token -------------------------------------------------------------------------


def token_values(code: str, nodes: list) -> list[TokenValue]:
    out: list[TokenValue] = []
    for node in nodes:
        kind = type(node)
        if kind is str:
            out.append(TokenValue(code, None, node))
        elif kind is bool:
            out.append(TokenValue(code, None, "true" if node else "false"))
        elif kind is int or kind is float:
            out.append(TokenValue(code, None, str(node)))
        elif kind is dict:
            _token_from_dict(code, node, out)
    return out


def _token_from_dict(code: str, node: dict, out: list[TokenValue]) -> None:
    codings = node.get("coding")
    if codings is not None or ("text" in node and "value" not in node and "code" not in node):
        text = node.get("text")
        for coding in codings or ():
            if type(coding) is dict:
                display = coding.get("display") or text
                out.append(
                    TokenValue(
                        code, coding.get("system"), coding.get("code"), _norm_or_none(display)
                    )
                )
        displays = {c.get("display") for c in codings or () if type(c) is dict}
        if isinstance(text, str) and text and (not codings or text not in displays):
            out.append(TokenValue(code, None, None, normalize_text(text)))
        return
    if "value" in node:
        value = node["value"]
        if not isinstance(value, str):
            value = str(value)
        system = node.get("system")
        if system in CONTACT_POINT_SYSTEMS or "rank" in node:
            out.append(
                TokenValue(code, None, value)
            )  # ContactPoint: system is a kind, not a namespace
            return
        id_type = node.get("type")
        type_text = id_type.get("text") if type(id_type) is dict else None
        out.append(TokenValue(code, system, value, _norm_or_none(type_text)))
        health_id = abha.canonical_token(node)
        if health_id is not None:  # one token per ABHA, whichever system/format was sent
            out.append(TokenValue(code, health_id[0], health_id[1]))
        if type(id_type) is dict:
            for coding in id_type.get("coding") or ():
                if type(coding) is dict and coding.get("code"):
                    out.append(
                        TokenValue(
                            f"{code}:of-type", coding.get("system"), f"{coding['code']}|{value}"
                        )
                    )
        return
    if "code" in node or "system" in node:
        out.append(
            TokenValue(
                code, node.get("system"), node.get("code"), _norm_or_none(node.get("display"))
            )
        )


def token_pairs(nodes: list) -> list[tuple[str | None, str | None]]:
    """(system, code) of each token value, for composite keys (no texts, no of-type)."""
    pairs: list[tuple[str | None, str | None]] = []
    for node in nodes:
        if type(node) is dict:
            codings = node.get("coding")
            if codings is not None:
                pairs.extend((c.get("system"), c.get("code")) for c in codings if type(c) is dict)
                continue
        pairs.extend((t.system, t.code) for t in token_values("", [node]) if t.param == "")
    return pairs


# ---- string ------------------------------------------------------------------------


def _words(node: dict, parts: tuple[str, ...]) -> list[str]:
    words: list[str] = []
    for part in parts:
        value = node.get(part)
        if isinstance(value, str):
            words.append(value)
        elif type(value) is list:
            words.extend(v for v in value if isinstance(v, str))
    return words


def string_texts(node: Any) -> list[str]:
    """The texts a string parameter matches in one value; the first is the whole text."""
    if isinstance(node, str):
        return [node]
    if type(node) is not dict:
        return []
    if (
        "family" in node
        or "given" in node
        or ("text" in node and "line" not in node and "city" not in node)
    ):
        parts = _words(node, _NAME_PARTS)
        whole = node.get("text") or " ".join(parts)
        return [whole, *parts, *([" ".join(parts)] if node.get("text") and parts else [])]
    parts = _words(node, _ADDRESS_PARTS)
    if parts or "text" in node:
        whole = node.get("text") or " ".join(parts)
        return [whole, *parts]
    return []


def string_values(code: str, nodes: list) -> list[StringValue]:
    out: list[StringValue] = []
    seen: set[str] = set()
    for node in nodes:
        for text in string_texts(node):
            if text and text not in seen:
                seen.add(text)
                out.append(StringValue(code, normalize_text(text), text))
    return out


def string_sort_key(node: Any) -> str | None:
    """Family name first for a HumanName, so a name sort reads like a register."""
    if type(node) is dict and ("family" in node or "given" in node):
        family = node.get("family")
        text = " ".join(([family] if isinstance(family, str) else []) + _words(node, ("given",)))
        return normalize_text(text) if text else None
    texts = string_texts(node)
    return normalize_text(texts[0]) if texts and texts[0] else None


# ---- date / number / quantity --------------------------------------------------------


def _date_bounds(value: Any, tz: tzinfo) -> tuple[int, int] | None:
    if not isinstance(value, str):
        return None
    try:
        return date_range(value, tz)
    except ValueError:
        return None  # not a date: nothing to index (validation reports bad data)


def date_values(code: str, nodes: list, tz: tzinfo) -> list[RangeValue]:
    out: list[RangeValue] = []
    for node in nodes:
        if isinstance(node, str):
            bounds = _date_bounds(node, tz)
            if bounds is not None:
                out.append(RangeValue(code, bounds[0], bounds[1]))
        elif type(node) is dict:
            if "start" in node or "end" in node:
                start = _date_bounds(node.get("start"), tz)
                end = _date_bounds(node.get("end"), tz)
                if start is not None or end is not None:
                    out.append(
                        RangeValue(code, start[0] if start else None, end[1] if end else None)
                    )
            for event in node.get("event") or ():  # Timing
                bounds = _date_bounds(event, tz)
                if bounds is not None:
                    out.append(RangeValue(code, bounds[0], bounds[1]))
    return out


def number_values(code: str, nodes: list) -> list[RangeValue]:
    out: list[RangeValue] = []
    for node in nodes:
        if type(node) is dict:
            node = node.get("value")
        if _is_number(node):
            out.append(RangeValue(code, node, node))
    return out


def quantity_values(code: str, nodes: list) -> list[QuantityValue]:
    out: list[QuantityValue] = []
    for node in nodes:
        if _is_number(node):
            out.append(QuantityValue(code, None, None, None, node, node))
        elif type(node) is dict:
            value = node.get("value")
            if _is_number(value):
                if "currency" in node:
                    currency = node["currency"]
                    out.append(
                        QuantityValue(code, CURRENCY_SYSTEM, currency, currency, value, value)
                    )
                else:
                    out.append(
                        QuantityValue(
                            code,
                            node.get("system"),
                            node.get("code"),
                            node.get("unit"),
                            value,
                            value,
                        )
                    )
            elif "low" in node or "high" in node:  # Range
                low, high = node.get("low") or {}, node.get("high") or {}
                lo, hi = low.get("value"), high.get("value")
                if _is_number(lo) or _is_number(hi):
                    unit_of = low if _is_number(lo) else high
                    out.append(
                        QuantityValue(
                            code,
                            unit_of.get("system"),
                            unit_of.get("code"),
                            unit_of.get("unit"),
                            lo if _is_number(lo) else -math.inf,
                            hi if _is_number(hi) else math.inf,
                        )
                    )
    return out


# ---- reference / uri -------------------------------------------------------------------


def reference_values(
    code: str, nodes: list, targets: tuple[str, ...], own_bases: tuple[str, ...]
) -> tuple[list[ReferenceValue], list[TokenValue]]:
    refs: list[ReferenceValue] = []
    identifiers: list[TokenValue] = []
    single_target = targets[0] if len(targets) == 1 else None
    for node in nodes:
        if isinstance(node, str):  # canonical / uri pointing at a definition
            refs.extend(ReferenceValue(code, None, None, url) for url in canonical_variants(node))
            continue
        if type(node) is not dict:
            continue
        embedded_type = node.get("resourceType")
        if isinstance(embedded_type, str):
            # an inline resource (Bundle.entry[0].resource for `composition`/`message`)
            # is indexed as a reference to that resource's own type and id
            if isinstance(node.get("id"), str):
                refs.append(ReferenceValue(code, embedded_type, node["id"]))
            continue
        ref = node.get("reference")
        if isinstance(ref, str):
            parsed = parse_reference(ref, own_bases)
            if parsed is not None:
                if parsed.url is not None:
                    refs.append(ReferenceValue(code, None, None, parsed.url))
                else:
                    target_type = parsed.type or _declared_type(node) or single_target
                    refs.append(ReferenceValue(code, target_type, parsed.id))
        identifier = node.get("identifier")
        if type(identifier) is dict and identifier.get("value") is not None:
            identifiers.append(
                TokenValue(f"{code}:identifier", identifier.get("system"), str(identifier["value"]))
            )
    return refs, identifiers


def _declared_type(node: dict) -> str | None:
    declared = node.get("type")
    return declared.rsplit("/", 1)[-1] if isinstance(declared, str) else None


def uri_values(code: str, nodes: list) -> list[UriValue]:
    return [UriValue(code, node) for node in nodes if isinstance(node, str) and node]
