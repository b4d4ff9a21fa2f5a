"""How every benchmark script describes the machine and records its figures."""

from __future__ import annotations

import os
import platform
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def machine() -> str:
    return (
        f"{os.cpu_count()} cores, {platform.python_implementation()} {platform.python_version()},"
        f" {platform.machine()}, SQLite {sqlite3.sqlite_version}"
    )


def load_average() -> str:
    return ", ".join(f"{x:.1f}" for x in os.getloadavg())


def report(script: str, setup: str, lines: list[str], record: bool) -> None:
    """Print the figures under a header naming the script, the machine and the set-up;
    with `record`, append the same section to RESULTS.md."""
    header = f"### {script} — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC\n{machine()}; {setup}"
    print(header)
    print("\n".join(lines))
    if record:
        with RESULTS.open("a") as out:
            out.write("\n" + header + "\n" + "\n".join(lines) + "\n")
