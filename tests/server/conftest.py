"""A real `fhir-server serve` process on a free loopback port, for concurrency tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of a server with 2 worker processes sharing one SQLite file."""
    db = tmp_path_factory.mktemp("live") / "fhir.db"
    port = _free_port()
    env = {**os.environ, "FHIR_STORE": f"sqlite:///{db}"}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "fhir_server",
            "serve",
            "--port",
            str(port),
            "--workers",
            "2",
            "--log-level",
            "warning",
        ],
        cwd=REPO,
        env=env,
    )
    base = f"http://127.0.0.1:{port}/fhir"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/metadata", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                pytest.fail("fhir-server serve did not start")
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
