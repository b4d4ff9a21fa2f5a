"""`fhir-server export`: a system-level bulk export straight from the store to a folder.

The same NDJSON files (`Type-N.ndjson`, stored bytes line by line) and the same manifest
as `GET /fhir/$export`, without a server: for backups, analytics loads and moving data
between stores. The manifest's `url`s are the file names, relative to the manifest.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from fhir_server.bulk_export import files
from fhir_server.bulk_export.params import parse_arguments, selections
from fhir_server.bulk_export.writer import OutputFile, manifest, write_ndjson
from fhir_server.bulk_export.writer import Progress as WriteProgress
from fhir_server.instants import now_utc
from fhir_server.rest.context import ServerContext


@dataclass(slots=True)
class ExportSummary:
    outputs: list[OutputFile] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def resources(self) -> int:
        return sum(o.count for o in self.outputs)


def export_to_folder(
    ctx: ServerContext,
    out: Path,
    types: Sequence[str],
    since: str | None,
    type_filters: Sequence[str],
    console: Console | None = None,
) -> ExportSummary:
    """Export every current resource (of `types`, changed after `since`, matching the
    `type_filters`) to `out`; raises FhirError for a bad argument, like the HTTP kick-off."""
    console = console or Console(stderr=True)
    if out.exists() and any(out.iterdir()):
        # old files of another export would sit beside the new manifest, unlisted
        raise FileExistsError(f"{out} is not empty: export into a new or empty folder")
    params = [("_type", t) for t in types] + [("_typeFilter", f) for f in type_filters]
    if since:
        params.append(("_since", since))
    args = parse_arguments(ctx, params)
    with ctx.store.session() as session:
        chosen = selections(ctx, session, args, sorted(ctx.registry.resource_types))
        # an estimate for the bar: the export itself reads a later snapshot
        total = sum(session.count((s.type,), s.where) for s in chosen)
    out.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    transaction_time = now_utc()
    columns = (
        TextColumn("[bold]export"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("resources  {task.fields[rate]:,.0f}/s"),
        TimeElapsedColumn(),
        TextColumn("{task.fields[current]}", style="dim"),
    )
    with Progress(*columns, console=console, transient=False) as bar:
        task = bar.add_task("export", total=total, rate=0.0, current="")

        def update(progress: WriteProgress) -> None:
            elapsed = max(time.monotonic() - started, 1e-9)
            bar.update(
                task,
                completed=progress.processed,
                rate=progress.processed / elapsed,
                current=progress.current_type,
            )

        records = ctx.store.iter_export(chosen)
        try:
            outputs = write_ndjson(
                records, out, ctx.settings.export_file_max_resources, progress=update
            )
        finally:
            close = getattr(records, "close", None)
            if close is not None:
                close()
        bar.update(task, total=sum(o.count for o in outputs), current="")
    request = "$export" + ("?" + urlencode(params) if params else "")
    body = manifest(
        transaction_time,
        request,
        ctx.settings.export_requires_access_token,
        outputs,
        lambda o: o.name,
    )
    files.write_json(out / files.MANIFEST, body)
    summary = ExportSummary(outputs, time.monotonic() - started)
    rate = summary.resources / summary.seconds if summary.seconds else 0.0
    console.print(
        f"exported {summary.resources:,} resources in {len(outputs)} files to {out}"
        f" ({summary.seconds:,.1f} s, {rate:,.0f}/s); manifest: {out / files.MANIFEST}"
    )
    return summary
