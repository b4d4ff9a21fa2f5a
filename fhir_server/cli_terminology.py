"""`fhir-server terminology ...`: load full releases into the concept store, list them.

    fhir-server terminology load loinc path/to/Loinc.csv --version 2.77
    fhir-server terminology load snomed path/to/SnomedCT_InternationalRF2_.../ --version 20240101
    fhir-server terminology load icd10 path/to/icd10.tsv --version 2019
    fhir-server terminology list

Releases are licensed by their owners and never shipped with the server: each user
loads the release they are licensed to use.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from fhir_server.settings import load_settings
from fhir_server.storage.factory import open_store
from fhir_server.terminology.loaders.common import LoadResult

terminology_app = typer.Typer(help="Code systems in the concept store", no_args_is_help=True)


class Release(StrEnum):
    loinc = "loinc"
    snomed = "snomed"
    icd10 = "icd10"


@terminology_app.command()
def load(
    kind: Annotated[Release, typer.Argument(help="loinc | snomed | icd10")],
    path: Annotated[
        Path,
        typer.Argument(
            exists=True, help="Loinc.csv, an RF2 release folder, or an ICD-10 code<TAB>title file"
        ),
    ],
    version: Annotated[str | None, typer.Option(help="The release's version")] = None,
    store: Annotated[str | None, typer.Option(help="Store URL (env FHIR_STORE)")] = None,
) -> None:
    """Load (or replace) a code system from a release file into the store."""
    from fhir_server.terminology.loaders.icd10 import load_icd10
    from fhir_server.terminology.loaders.loinc import load_loinc
    from fhir_server.terminology.loaders.snomed import load_snomed

    loaders = {Release.loinc: load_loinc, Release.snomed: load_snomed, Release.icd10: load_icd10}
    settings = load_settings(**({"store": store} if store else {}))
    opened = open_store(settings)
    console = Console(stderr=True)
    concepts = getattr(opened, "terminology", None)
    if concepts is None:
        raise typer.BadParameter(f"the {opened.kind} store has no concept store")
    columns = (
        SpinnerColumn(),
        TextColumn(f"[bold]{kind.value}"),
        TextColumn("{task.fields[phase]}"),
        TextColumn("{task.completed:,} concepts"),
        TimeElapsedColumn(),
    )
    try:
        with Progress(*columns, console=console) as bar:
            task = bar.add_task("load", total=None, phase="reading")

            def update(phase: str, done: int) -> None:
                label = {"hierarchy": "building is-a closure"}.get(phase, phase)
                bar.update(task, completed=done, phase=label)

            result: LoadResult = loaders[kind](concepts, path, version, update)
    except (ValueError, KeyError) as exc:
        console.print(f"[red]cannot load {path}: {exc}")
        raise typer.Exit(1) from exc
    finally:
        opened.close()
    console.print(
        f"loaded {result.concepts:,} concepts of {result.url}"
        + (f" version {result.version}" if result.version else "")
    )


@terminology_app.command("list")
def list_(
    store: Annotated[str | None, typer.Option(help="Store URL (env FHIR_STORE)")] = None,
) -> None:
    """The code systems loaded into the concept store."""
    settings = load_settings(**({"store": store} if store else {}))
    opened = open_store(settings)
    try:
        concepts = getattr(opened, "terminology", None)
        table = Table("url", "version", "concepts")
        for system in concepts.systems() if concepts else []:
            table.add_row(system.url, system.version or "", f"{system.count:,}")
        Console().print(table)
    finally:
        opened.close()
