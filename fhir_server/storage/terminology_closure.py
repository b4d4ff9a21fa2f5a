"""The is-a closure of a loaded code system, computed from parent links (both adapters)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator


def closure_pairs(parents: dict[str, tuple[str, ...]]) -> Iterator[tuple[str, str]]:
    """(ancestor, code) for every code and each of its transitive ancestors, self included.

    Iterative with a memo, so deep hierarchies (SNOMED is ~30 levels deep, with many
    parents per concept) neither recurse nor revisit shared ancestors. A parent that is
    not itself a concept of the system is kept as an ancestor; cycles are cut.
    """
    memo: dict[str, frozenset[str]] = {}
    for start in parents:
        yield from ((a, start) for a in _ancestors(start, parents, memo))


def ancestors_of(parents: dict[str, tuple[str, ...]]) -> Iterator[tuple[str, frozenset[str]]]:
    memo: dict[str, frozenset[str]] = {}
    for code in parents:
        yield code, _ancestors(code, parents, memo)


def _ancestors(
    start: str, parents: dict[str, tuple[str, ...]], memo: dict[str, frozenset[str]]
) -> frozenset[str]:
    if start in memo:
        return memo[start]
    stack: list[tuple[str, Iterable[str]]] = [(start, iter(parents.get(start, ())))]
    on_path = {start}
    while stack:
        code, pending = stack[-1]
        for parent in pending:
            if parent in memo or parent in on_path:
                continue
            on_path.add(parent)
            stack.append((parent, iter(parents.get(parent, ()))))
            break
        else:
            stack.pop()
            on_path.discard(code)
            found = {code}
            for parent in parents.get(code, ()):
                found |= memo.get(parent, {parent})
            memo[code] = frozenset(found)
    return memo[start]
