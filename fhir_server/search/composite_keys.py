"""How composite parameter values are keyed, identically on the index and the query side.

A composite value (e.g. Observation `code-value-quantity`) is stored as one
`CompositeValue` per combination, with `keys` in component order. Each key is the
component written the way a client writes it in a query, after unescaping:

- token:     "system|code", "code" (any system) and, when the stored coding has no
             system, "|code". A stored coding therefore yields two keys, one for each
             form a query can use.
- quantity:  the unit part after the number: "" (no unit given), "system|code", and
             "|code" (code in any system; "|unit" too when the unit text differs).
             The number itself goes to low/high.
- number, date: "" -- the value goes to low/high.
- string:    the normalised string (matched whole, not as a prefix).
- reference: "Type/id", or the absolute URL.
- uri:       the value as written.

Only the first number/quantity/date component goes to low/high (all R4 composites have at
most one, except MolecularSequence coordinates whose second number is keyed by
`number_key`). A stored value yields the cross product of its components' keys, so a
query's key tuple is matched by exact equality.
"""

from __future__ import annotations

RANGE_COMPONENT_TYPES = frozenset({"number", "quantity", "date"})


def token_keys(system: str | None, code: str | None) -> list[str]:
    if not code:
        return []
    if system:
        return [f"{system}|{code}", code]
    return [f"|{code}", code]


def quantity_unit_keys(system: str | None, code: str | None, unit: str | None) -> list[str]:
    keys = [""]
    if code:
        if system:
            keys.append(f"{system}|{code}")
        keys.append(f"|{code}")
    if unit and unit != code:
        keys.append(f"|{unit}")
    return keys


def number_key(value: float) -> str:
    as_float = float(value)
    if as_float.is_integer():
        return str(int(as_float))
    return repr(as_float)
