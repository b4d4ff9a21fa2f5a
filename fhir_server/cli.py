"""The `fhir-server` command: serve, seed, import, export."""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from typing import Annotated

import typer

from fhir_server.settings import load_settings

app = typer.Typer(help="FHIR R4 server for India's public health network", no_args_is_help=True)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on")] = 8080,
    store: Annotated[
        str | None,
        typer.Option(help="sqlite:///path/file.db or mongodb://host/db (env FHIR_STORE)"),
    ] = None,
    workers: Annotated[int, typer.Option(help="Worker processes")] = 1,
    log_level: Annotated[str, typer.Option(help="uvicorn log level")] = "info",
    auth: Annotated[
        str | None, typer.Option(help="off (loopback only) or smart (env FHIR_AUTH)")
    ] = None,
    insecure_allow_unauthenticated_network_access: Annotated[
        bool,
        typer.Option(
            "--insecure-allow-unauthenticated-network-access",
            help="Serve a non-loopback address with auth off: anyone who reaches the port"
            " can read and change every record",
        ),
    ] = False,
) -> None:
    """Start the server; the FHIR base is http://HOST:PORT/fhir."""
    import uvicorn

    if store:
        os.environ["FHIR_STORE"] = store  # worker processes read settings from the env
    if auth:
        os.environ["FHIR_AUTH"] = auth
    settings = load_settings()
    _check_store(settings.store)
    allow_insecure = (
        insecure_allow_unauthenticated_network_access
        or settings.insecure_allow_unauthenticated_network_access
    )
    _check_exposure(host, settings.auth, allow_insecure)
    typer.echo(f"FHIR base: http://{_display_host(host)}:{port}/fhir  (store: {settings.store})")
    uvicorn.run(
        "fhir_server.asgi:app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
    )


@app.command()
def seed(
    store: Annotated[str | None, typer.Option(help="Store URL (env FHIR_STORE)")] = None,
    folder: Annotated[
        Path | None, typer.Option(help="Folder of seed bundles (default: seed_bundles/)")
    ] = None,
) -> None:
    """Load the sample Delhi network from seed_bundles/ (idempotent: run it again freely)."""
    from fhir_server.api.app import build_context
    from fhir_server.seeding import load_seed_folder

    settings = load_settings(**({"store": store} if store else {}))
    ctx = build_context(settings)
    folder = folder or Path(__file__).resolve().parent.parent / "seed_bundles"
    try:
        summary = load_seed_folder(ctx, folder)
    finally:
        ctx.store.close()
    typer.echo(
        f"seeded from {folder}: {summary.created} created, {summary.updated} updated,"
        f" {summary.unchanged} unchanged"
    )


@app.command("import")
def import_(
    paths: Annotated[
        list[Path], typer.Argument(help="Bundle (.json[.gz|.bz2]) / NDJSON files or folders")
    ],
    store: Annotated[str | None, typer.Option(help="Store URL (env FHIR_STORE)")] = None,
    continue_on_error: Annotated[
        bool, typer.Option(help="Report a failed file or line and go on (else stop there)")
    ] = False,
    workers: Annotated[
        int | None,
        typer.Option(
            help="Processes loading files side by side (default: one per CPU from"
            " 16 files on, else 1)",
            min=1,
        ),
    ] = None,
) -> None:
    """Load Bundles and NDJSON as POST /fhir would (validated, indexed, one transaction each).

    Order: folders are walked recursively; files named 0-* or Synthea's
    hospitalInformation* / practitionerInformation* load first (others reference them
    conditionally), then the rest; each group in sorted path order. NDJSON lines load as
    updates when they carry an id, as creates otherwise, 1,000 per transaction. The exit
    status is 1 when anything failed. With several workers, the files after the
    information bundles load side by side (one file per process at a time).
    """
    from fhir_server.api.app import build_context
    from fhir_server.cli_progress import run_import

    settings = load_settings(**({"store": store} if store else {}))
    _check_store(settings.store)
    ctx = build_context(settings)
    try:
        summary = run_import(ctx, paths, continue_on_error, workers=workers)
    finally:
        ctx.close()
    if summary.failures:
        raise typer.Exit(1)


@app.command()
def export(
    out: Annotated[Path, typer.Option(help="New or empty folder for NDJSON files + manifest")],
    type_: Annotated[
        list[str] | None, typer.Option("--type", help="Resource type (repeatable; default all)")
    ] = None,
    since: Annotated[
        str | None, typer.Option(help="Only resources changed after this FHIR instant")
    ] = None,
    type_filter: Annotated[
        list[str] | None,
        typer.Option(help="A search per type, e.g. 'Observation?code=http://loinc.org|4548-4'"),
    ] = None,
    store: Annotated[str | None, typer.Option(help="Store URL (env FHIR_STORE)")] = None,
) -> None:
    """Bulk-export current resources to NDJSON files, as $export does (docs/bulk-export.md)."""
    from fhir_server.api.app import build_context
    from fhir_server.cli_export import export_to_folder
    from fhir_server.errors import FhirError

    settings = load_settings(**({"store": store} if store else {}))
    _check_store(settings.store)
    ctx = build_context(settings)
    try:
        export_to_folder(ctx, out, type_ or [], since, type_filter or [])
    except (FhirError, FileExistsError) as exc:
        typer.echo(f"export failed: {exc}", err=True)
        raise typer.Exit(2) from None
    finally:
        ctx.close()


def _check_store(url: str) -> None:
    if not url.startswith(("sqlite:///", "mongodb://", "mongodb+srv://")):
        raise typer.BadParameter(
            f"unsupported store {url!r}: use sqlite:///path or mongodb://host/db",
            param_hint="--store",
        )


def _check_exposure(host: str, auth: str, allow_insecure: bool) -> None:
    """Refuse to serve health records without authentication beyond this machine."""
    if auth != "off" or allow_insecure or _is_loopback(host):
        return
    typer.echo(
        f"Refusing to listen on {host} with authentication off: anyone who can reach it"
        " could read and change every record. Use --auth smart (see README, 'Security'),"
        " listen on 127.0.0.1, or pass --insecure-allow-unauthenticated-network-access.",
        err=True,
    )
    raise typer.Exit(2)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _display_host(host: str) -> str:
    try:
        return f"[{host}]" if ipaddress.ip_address(host).version == 6 else host
    except ValueError:
        return host


@app.command()
def generate(
    out: Annotated[Path, typer.Option(help="Folder to write the Bundles to (created)")],
    patients: Annotated[int, typer.Option(min=0, help="Random people to add to the seed")] = 1000,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed writes the same bytes")] = 1,
) -> None:
    """Write a larger synthetic Delhi network (seed network + N people); load it with
    `fhir-server seed --folder OUT`."""
    from fhir_server.generate.network import generated_files
    from fhir_server.generate.output import write_files

    files = generated_files(patients, seed)
    write_files(out, files)
    size = sum(len(data) for data in files.values())
    typer.echo(f"wrote {len(files)} bundles ({size / 1e6:.1f} MB) to {out}")


from fhir_server.cli_clients import clients_app  # noqa: E402

app.add_typer(clients_app, name="clients")

from fhir_server.cli_terminology import terminology_app  # noqa: E402

app.add_typer(terminology_app, name="terminology")

if __name__ == "__main__":
    app()
