"""Structural validation of a SQL on FHIR v2 ViewDefinition.

ViewDefinition is not an R4 resource type, so neither the R4B models nor the R4 JSON
Schema know it; this module is its validator (registered in
`fhir_server.validation.additional_types`). It checks what a runner relies on: required
elements, known element names, column names that are SQL identifiers and unique across
the view, `unionAll` branches with the same columns, `forEach` xor `forEachOrNull`, and
that every FHIRPath expression parses.
"""

from __future__ import annotations

import re
from typing import Any

from fhir_server.errors import Issue
from fhir_server.views.fhirpath import FhirPathError, compile_path

ROOT = "ViewDefinition"
SQL_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
STATUSES = frozenset({"draft", "active", "retired", "unknown"})
_COMMON = {
    "resourceType",
    "id",
    "meta",
    "implicitRules",
    "language",
    "text",
    "contained",
    "extension",
    "modifierExtension",
}
_ROOT_KEYS = _COMMON | {
    "url",
    "identifier",
    "name",
    "title",
    "version",
    "status",
    "experimental",
    "date",
    "publisher",
    "contact",
    "description",
    "useContext",
    "jurisdiction",
    "purpose",
    "copyright",
    "resource",
    "resourceVersion",
    "fhirVersion",
    "constant",
    "select",
    "where",
}
_SELECT_KEYS = {
    "id",
    "extension",
    "modifierExtension",
    "column",
    "select",
    "forEach",
    "forEachOrNull",
    "unionAll",
}
_COLUMN_KEYS = {
    "id",
    "extension",
    "modifierExtension",
    "name",
    "path",
    "description",
    "collection",
    "type",
    "tag",
}
_WHERE_KEYS = {"id", "extension", "modifierExtension", "path", "description"}
_CONSTANT_KEYS = {"id", "extension", "modifierExtension", "name"}


def definition_issues(view: dict[str, Any], resource_types: frozenset[str]) -> list[Issue]:
    """Every structural problem of `view` (empty when it can be run)."""
    checker = _Checker(resource_types)
    checker.root(view)
    return checker.issues


class _Checker:
    def __init__(self, resource_types: frozenset[str]) -> None:
        self.resource_types = resource_types
        self.issues: list[Issue] = []

    def error(self, code: str, where: str, text: str) -> None:
        self.issues.append(Issue("error", code, f"{where}: {text}", [where]))

    def keys(self, node: dict[str, Any], allowed: set[str], where: str) -> None:
        for key in node:
            if key not in allowed:
                self.error("structure", f"{where}.{key}", "unknown element")

    def root(self, view: dict[str, Any]) -> None:
        self.keys(view, _ROOT_KEYS, ROOT)
        resource = view.get("resource")
        if not resource:
            self.error("required", f"{ROOT}.resource", "is required (the resource type viewed)")
        elif not isinstance(resource, str) or resource not in self.resource_types:
            self.error("value", f"{ROOT}.resource", f"{resource!r} is not a known resource type")
        status = view.get("status")
        if status is None:
            self.error("required", f"{ROOT}.status", "is required")
        elif status not in STATUSES:
            self.error("value", f"{ROOT}.status", f"must be one of {', '.join(sorted(STATUSES))}")
        name = view.get("name")
        if name is not None and (not isinstance(name, str) or not SQL_NAME.fullmatch(name)):
            self.error("value", f"{ROOT}.name", "must be a SQL name ([A-Za-z_][A-Za-z0-9_]*)")
        self.constants(view.get("constant"))
        for i, where in enumerate(self.array(view, "where", ROOT)):
            at = f"{ROOT}.where[{i}]"
            if self.object(where, at):
                self.keys(where, _WHERE_KEYS, at)
                self.path(where, at, required=True)
        selects = self.array(view, "select", ROOT)
        if not selects:
            self.error("required", f"{ROOT}.select", "at least one select is required")
        seen: dict[str, str] = {}
        for i, select in enumerate(selects):
            for name, at in self.select(select, f"{ROOT}.select[{i}]"):
                self.unique(name, at, seen)

    def unique(self, name: str, at: str, seen: dict[str, str]) -> None:
        if name in seen:
            self.error("invariant", at, f"column name {name!r} is already used at {seen[name]}")
        else:
            seen[name] = at

    def array(self, node: dict[str, Any], key: str, where: str) -> list[Any]:
        value = node.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            self.error("structure", f"{where}.{key}", "must be an array")
            return []
        return value

    def object(self, value: Any, where: str) -> bool:
        if isinstance(value, dict):
            return True
        self.error("structure", where, "must be an object")
        return False

    def path(self, node: dict[str, Any], where: str, key: str = "path", *, required: bool) -> None:
        path = node.get(key)
        if path is None:
            if required:
                self.error("required", f"{where}.{key}", "is required")
            return
        if not isinstance(path, str) or not path.strip():
            self.error("value", f"{where}.{key}", "must be a non-empty FHIRPath string")
            return
        try:
            compile_path(path)
        except FhirPathError as exc:
            self.error("invalid", f"{where}.{key}", f"FHIRPath {path!r} does not parse: {exc}")

    def constants(self, constants: Any) -> None:
        if constants is None:
            return
        if not isinstance(constants, list):
            self.error("structure", f"{ROOT}.constant", "must be an array")
            return
        for i, constant in enumerate(constants):
            at = f"{ROOT}.constant[{i}]"
            if not self.object(constant, at):
                continue
            values = [k for k in constant if k.startswith("value") and k != "value"]
            self.keys({k: v for k, v in constant.items() if k not in values}, _CONSTANT_KEYS, at)
            name = constant.get("name")
            if not isinstance(name, str) or not SQL_NAME.fullmatch(name):
                self.error("value", f"{at}.name", "is required and must be a name")
            if len(values) != 1:
                self.error("required", f"{at}.value[x]", "exactly one value[x] is required")

    def select(self, select: Any, where: str) -> list[tuple[str, str]]:
        """The (column name, location) pairs this select contributes, in order."""
        if not self.object(select, where):
            return []
        self.keys(select, _SELECT_KEYS, where)
        if "forEach" in select and "forEachOrNull" in select:
            self.error("invariant", where, "forEach and forEachOrNull cannot both be given")
        self.path(select, where, "forEach", required=False)
        self.path(select, where, "forEachOrNull", required=False)
        out: list[tuple[str, str]] = []
        columns = self.array(select, "column", where)
        for i, column in enumerate(columns):
            at = f"{where}.column[{i}]"
            if not self.object(column, at):
                continue
            self.keys(column, _COLUMN_KEYS, at)
            name = column.get("name")
            if not isinstance(name, str) or not name:
                self.error("required", f"{at}.name", "is required")
            elif not SQL_NAME.fullmatch(name):
                self.error(
                    "value", f"{at}.name", f"{name!r} is not a SQL name ([A-Za-z_][A-Za-z0-9_]*)"
                )
            else:
                out.append((name, f"{at}.name"))
            self.path(column, at, required=True)
            if "collection" in column and not isinstance(column["collection"], bool):
                self.error("value", f"{at}.collection", "must be a boolean")
        nested = self.array(select, "select", where)
        for i, child in enumerate(nested):
            out += self.select(child, f"{where}.select[{i}]")
        unions = self.array(select, "unionAll", where)
        if unions:
            branches = [self.select(u, f"{where}.unionAll[{i}]") for i, u in enumerate(unions)]
            first = [name for name, _ in branches[0]]
            for i, branch in enumerate(branches[1:], start=1):
                if [name for name, _ in branch] != first:
                    self.error(
                        "invariant",
                        f"{where}.unionAll[{i}]",
                        f"columns {[n for n, _ in branch]} differ from unionAll[0]'s {first}",
                    )
            out += branches[0]
        if not columns and not nested and not unions:
            self.error("required", where, "needs a column, select or unionAll")
        return out
