"""ConceptMap translation ($translate): the R4 group/element/target structure.

Forward: the groups whose `source` is the code's system, the elements with its code,
their targets (optionally only of `target_system`). Reverse: the other way round, from a
target code back to its sources. A group's `unmapped` mode `provided` maps a code to
itself and `fixed` to its code; `other-map` is not followed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

_NO_MATCH = ("unmatched", "disjoint")


@dataclass(frozen=True, slots=True)
class Match:
    equivalence: str
    system: str | None
    code: str | None
    display: str | None
    source: str  # the ConceptMap's url
    comment: str | None = None


def translate(
    maps: Iterable[dict[str, Any]],
    system: str | None,
    code: str,
    target_system: str | None = None,
    reverse: bool = False,
) -> list[Match]:
    found: list[Match] = []
    for concept_map in maps:
        url = concept_map.get("url", "")
        for group in concept_map.get("group") or []:
            from_system = group.get("target") if reverse else group.get("source")
            to_system = group.get("source") if reverse else group.get("target")
            if system is not None and from_system not in (None, system):
                continue
            if target_system is not None and to_system not in (None, target_system):
                continue
            matched = False
            for element in group.get("element") or []:
                if reverse:
                    for target in element.get("target") or []:
                        if target.get("code") == code:
                            matched = True
                            found.append(
                                Match(
                                    _reversed(target.get("equivalence", "equivalent")),
                                    to_system,
                                    element.get("code"),
                                    element.get("display"),
                                    url,
                                    target.get("comment"),
                                )
                            )
                elif element.get("code") == code:
                    matched = True
                    for target in element.get("target") or [{"equivalence": "unmatched"}]:
                        found.append(
                            Match(
                                target.get("equivalence", "equivalent"),
                                to_system if target.get("code") else None,
                                target.get("code"),
                                target.get("display"),
                                url,
                                target.get("comment"),
                            )
                        )
            unmapped = group.get("unmapped") or {}
            if not matched and not reverse and unmapped.get("mode") in ("provided", "fixed"):
                fixed = unmapped.get("mode") == "fixed"
                found.append(
                    Match(
                        "equivalent" if not fixed else "inexact",
                        to_system,
                        unmapped.get("code") if fixed else code,
                        unmapped.get("display") if fixed else None,
                        url,
                    )
                )
    return found


def is_success(matches: list[Match]) -> bool:
    return any(m.equivalence not in _NO_MATCH and m.code for m in matches)


def _reversed(equivalence: str) -> str:
    # read from the target's side, "wider" and "narrower" swap
    return {"wider": "narrower", "narrower": "wider", "subsumes": "specializes"}.get(
        equivalence, {"specializes": "subsumes"}.get(equivalence, equivalence)
    )


def map_matches(concept_map: dict[str, Any], source_vs: str | None, target_vs: str | None) -> bool:
    source = concept_map.get("sourceCanonical") or concept_map.get("sourceUri")
    target = concept_map.get("targetCanonical") or concept_map.get("targetUri")
    if source_vs is not None and source != source_vs.split("|")[0]:
        return False
    return target_vs is None or target == target_vs.split("|")[0]
