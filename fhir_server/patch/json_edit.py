"""In-place edits of FHIR JSON properties that keep primitive `_name` shadows consistent.

In FHIR JSON a primitive's id/extensions live in a sibling property: `birthDate` pairs with
`_birthDate`, and a repeating primitive `given` pairs with an index-aligned `_given` array
(null where an item has no extensions). Every list edit here applies to both arrays so the
alignment survives insert/delete/move. Empty arrays and all-null shadows are removed because
FHIR JSON does not allow empty arrays or objects.
"""

from __future__ import annotations

from typing import Any

JsonObject = dict[str, Any]


def shadow_key(key: str) -> str:
    return "_" + key


def list_length(obj: JsonObject, key: str) -> int:
    value, shadow = obj.get(key), obj.get(shadow_key(key))
    return max(
        len(value) if isinstance(value, list) else 0,
        len(shadow) if isinstance(shadow, list) else 0,
    )


def set_single(obj: JsonObject, key: str, value: Any, shadow: JsonObject | None) -> None:
    """Set a non-repeating property; the element's old extensions go with its old value."""
    obj[key] = value
    if shadow:
        obj[shadow_key(key)] = shadow
    else:
        obj.pop(shadow_key(key), None)


def remove_single(obj: JsonObject, key: str) -> None:
    obj.pop(key, None)
    obj.pop(shadow_key(key), None)


def insert_item(
    obj: JsonObject, key: str, index: int, value: Any, shadow: JsonObject | None
) -> None:
    length = list_length(obj, key)
    values = _aligned(obj.get(key), length)
    values.insert(index, value)
    obj[key] = values
    shadows = obj.get(shadow_key(key))
    if shadow or isinstance(shadows, list):
        shadows = _aligned(shadows if isinstance(shadows, list) else None, length)
        shadows.insert(index, shadow or None)
        obj[shadow_key(key)] = shadows
    _tidy(obj, key)


def replace_item(
    obj: JsonObject, key: str, index: int, value: Any, shadow: JsonObject | None
) -> None:
    length = list_length(obj, key)
    values = _aligned(obj.get(key), length)
    values[index] = value
    obj[key] = values
    shadows = obj.get(shadow_key(key))
    if shadow or isinstance(shadows, list):
        shadows = _aligned(shadows if isinstance(shadows, list) else None, length)
        shadows[index] = shadow or None
        obj[shadow_key(key)] = shadows
    _tidy(obj, key)


def remove_item(obj: JsonObject, key: str, index: int) -> None:
    length = list_length(obj, key)
    for name in (key, shadow_key(key)):
        items = obj.get(name)
        if isinstance(items, list):
            items = _aligned(items, length)
            del items[index]
            obj[name] = items
    _tidy(obj, key)


def move_item(obj: JsonObject, key: str, source: int, destination: int) -> None:
    length = list_length(obj, key)
    for name in (key, shadow_key(key)):
        items = obj.get(name)
        if isinstance(items, list):
            items = _aligned(items, length)
            items.insert(destination, items.pop(source))
            obj[name] = items


def prune_empty(value: Any) -> Any:
    """Drop {} and [] left behind by deletions (FHIR JSON forbids them), recursively."""
    if not isinstance(value, dict):
        return value
    for key in list(value):
        item = value[key]
        if isinstance(item, list):
            item = [prune_empty(i) for i in item]
            if key.startswith("_"):
                # Shadow arrays keep their alignment: an emptied entry becomes a null.
                item = [None if i == {} else i for i in item]
                if all(i is None for i in item):
                    item = []
            else:
                item = [i for i in item if i != {}]
        else:
            item = prune_empty(item)
        if item is None or item == {} or item == []:
            del value[key]
        else:
            value[key] = item
    return value


def _aligned(items: list[Any] | None, length: int) -> list[Any]:
    """A copy of `items` padded with nulls to `length` (shadow arrays may be short)."""
    out = list(items) if items else []
    out.extend([None] * (length - len(out)))
    return out


def _tidy(obj: JsonObject, key: str) -> None:
    shadows = obj.get(shadow_key(key))
    if isinstance(shadows, list) and all(s is None for s in shadows):
        obj.pop(shadow_key(key))
    values = obj.get(key)
    if isinstance(values, list) and not values:
        obj.pop(key)
