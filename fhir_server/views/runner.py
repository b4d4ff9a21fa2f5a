"""Running a ViewDefinition over resources: each resource becomes zero or more rows.

The view is compiled once (`compile_view`): every FHIRPath expression to a closure, the
select tree to `_Select` nodes that know their columns' positions. A row is a tuple of
column values in the view's column order (column, then nested select, then unionAll,
at every level, as the SQL on FHIR v2 spec orders them).

Semantics follow the spec: a select's rows are the cross product of its own columns and
of each nested select's rows; `forEach` repeats the select for every item of its path
(none: no rows), `forEachOrNull` gives one row of nulls when there is no item; `unionAll`
concatenates its branches' rows; a view-level `where` keeps a resource when every path
is true. A non-collection column with several values is an error, as the spec asks.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from fhir_server.errors import FhirError
from fhir_server.validation.additional_types import SERVER_RESOURCE_TYPES
from fhir_server.views.definition import definition_issues
from fhir_server.views.fhirpath import CompiledPath, Env, FhirPathError, compile_path

Row = tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    path: str
    type: str | None  # the declared FHIR type (string, integer, decimal, boolean, ...)
    collection: bool


class ViewRunError(FhirError):
    """A resource that the view cannot turn into rows (e.g. two values for one column)."""

    def __init__(self, text: str, resource: dict[str, Any]) -> None:
        key = f"{resource.get('resourceType')}/{resource.get('id')}"
        super().__init__(422, "processing", f"{key}: {text}")


class _Select:
    __slots__ = ("children", "columns", "iterate", "or_null", "unions", "width")

    def __init__(self, node: dict[str, Any], out: list[Column]) -> None:
        path = node.get("forEach") or node.get("forEachOrNull")
        self.iterate: CompiledPath | None = compile_path(path) if path else None
        self.or_null = "forEachOrNull" in node
        self.columns: list[tuple[CompiledPath, bool, str]] = []
        start = len(out)
        for column in node.get("column") or []:
            collection = bool(column.get("collection", False))
            out.append(Column(column["name"], column["path"], column.get("type"), collection))
            self.columns.append((compile_path(column["path"]), collection, column["name"]))
        self.children = [_Select(child, out) for child in node.get("select") or []]
        self.unions: list[_Select] = []
        for i, branch in enumerate(node.get("unionAll") or []):
            # every branch has the same columns (validated): only the first one names them
            self.unions.append(_Select(branch, out if i == 0 else []))
        self.width = len(out) - start

    def rows(self, item: Any, env: Env) -> list[Row]:
        foci = self.iterate(item, env) if self.iterate is not None else (item,)
        out: list[Row] = []
        for focus in foci:
            combos = [self._own(focus, env)]
            for child in self.children:
                child_rows = child.rows(focus, env)
                combos = [a + b for a in combos for b in child_rows]
            if self.unions:
                union_rows = [row for branch in self.unions for row in branch.rows(focus, env)]
                combos = [a + b for a in combos for b in union_rows]
            out.extend(combos)
        if not foci and self.or_null:
            out.append((None,) * self.width)
        return out

    def _own(self, focus: Any, env: Env) -> Row:
        values: list[Any] = []
        for path, collection, name in self.columns:
            found = path(focus, env)
            if collection:
                values.append(found)
            elif not found:
                values.append(None)
            elif len(found) == 1:
                values.append(found[0])
            else:
                raise _TooMany(name, len(found))
        return tuple(values)


class _TooMany(Exception):
    def __init__(self, column: str, count: int) -> None:
        super().__init__(f"column {column!r} has {count} values but is not a collection")


@dataclass(frozen=True)
class CompiledView:
    resource_type: str
    name: str | None
    columns: tuple[Column, ...]
    _select: _Select
    _where: tuple[CompiledPath, ...]
    _constants: dict[str, list]

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def rows(self, resource: dict[str, Any]) -> list[Row]:
        env = Env(resource, self._constants)
        try:
            for path in self._where:
                found = path(resource, env)
                if not found or found == [False]:
                    return []
                if found != [True]:
                    raise ViewRunError(
                        f"where path {path.expression!r} gave {found!r}, not a boolean", resource
                    )
            return self._select.rows(resource, env)
        except _TooMany as exc:
            raise ViewRunError(str(exc), resource) from None
        except FhirPathError as exc:
            raise ViewRunError(str(exc), resource) from None

    def iter_rows(self, resources: Iterable[dict[str, Any]]) -> Iterator[Row]:
        for resource in resources:
            yield from self.rows(resource)


def compile_view(view: Any) -> CompiledView:
    """The runnable form of a ViewDefinition; FhirError(422) naming each problem."""
    if not isinstance(view, dict) or view.get("resourceType") not in (None, "ViewDefinition"):
        raise FhirError(422, "invalid", "a ViewDefinition resource is expected", ["resourceType"])
    issues = definition_issues(view, SERVER_RESOURCE_TYPES)
    if issues:
        raise FhirError(422, "invalid", "", issues=issues)
    columns: list[Column] = []
    # the view's top-level select list behaves like one select with nested selects
    root = _Select({"select": view["select"]}, columns)
    constants = {c["name"]: [_constant_value(c)] for c in view.get("constant") or []}
    where = tuple(compile_path(w["path"]) for w in view.get("where") or [])
    return CompiledView(view["resource"], view.get("name"), tuple(columns), root, where, constants)


def _constant_value(constant: dict[str, Any]) -> Any:
    return next(v for k, v in constant.items() if k.startswith("value"))
