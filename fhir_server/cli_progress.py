"""The terminal side of `fhir-server import`: a rich progress bar and the closing summary."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from fhir_server.bulk_import import ImportSummary, discover, import_paths
from fhir_server.parallel_import import import_in_parallel, workers_for
from fhir_server.rest.context import ServerContext

_SHOWN_FAILURES = 50


def run_import(
    ctx: ServerContext,
    paths: Sequence[Path],
    continue_on_error: bool,
    console: Console | None = None,
    workers: int | None = None,
) -> ImportSummary:
    console = console or Console(stderr=True)
    total = len(discover(paths))
    processes = workers_for(workers, total, os.cpu_count() or 1)
    columns = (
        TextColumn("[bold]import"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("files  {task.fields[resources]:,} resources  {task.fields[rate]:,.0f}/s"),
        TimeElapsedColumn(),
        TextColumn("{task.fields[current]}", style="dim"),
    )
    with Progress(*columns, console=console, transient=False) as bar:
        task = bar.add_task("import", total=total, resources=0, rate=0.0, current="")

        def update(summary: ImportSummary, current: str) -> None:
            bar.update(
                task,
                completed=summary.files,
                resources=summary.resources,
                rate=summary.rate,
                current=Path(current).name if current else "",
            )

        if processes > 1:
            summary = import_in_parallel(
                ctx, paths, processes, continue_on_error=continue_on_error, progress=update
            )
        else:
            summary = import_paths(ctx, paths, continue_on_error=continue_on_error, progress=update)
        bar.update(task, completed=summary.files, current="")
    _print_summary(console, summary, total)
    return summary


def _print_summary(console: Console, summary: ImportSummary, total: int) -> None:
    table = Table(title="import summary", show_header=False)
    table.add_row("files", f"{summary.files:,} of {total:,}")
    table.add_row("resources", f"{summary.resources:,}")
    table.add_row("created / updated or matched", f"{summary.created:,} / {summary.updated:,}")
    table.add_row("time", f"{summary.seconds:,.1f} s")
    table.add_row("rate", f"{summary.rate:,.0f} resources/s")
    table.add_row("failures", f"{len(summary.failures):,}")
    console.print(table)
    for failure in summary.failures[:_SHOWN_FAILURES]:
        # unwrapped: a path cut across lines cannot be copied
        console.print(
            f"[red]FAILED[/red] {failure.source} ({failure.status}): {failure.diagnostics}",
            soft_wrap=True,
            highlight=False,
        )
    if len(summary.failures) > _SHOWN_FAILURES:
        console.print(f"... and {len(summary.failures) - _SHOWN_FAILURES} more failures")
    if summary.failures and summary.files < total:
        console.print("stopped at the first failure (use --continue-on-error to go on)")
