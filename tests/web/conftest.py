"""A seeded `fhir-server serve` process and a headless Debian Chromium driven by Selenium.

The browser is Debian's `chromium` + `chromium-driver` (installed by .ci/run); nothing is
ever downloaded. Where either is missing the browser tests skip and say why.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.live_server import running_server

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1280,900",
)


@pytest.fixture(scope="module")
def record_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Origin (http://127.0.0.1:PORT) of a server on a fresh SQLite file with the seed data."""
    store = f"sqlite:///{tmp_path_factory.mktemp('record') / 'fhir.db'}"
    subprocess.run(
        [sys.executable, "-m", "fhir_server", "seed", "--store", store],
        cwd=REPO,
        env={**os.environ, "FHIR_STORE": store},
        check=True,
        capture_output=True,
    )
    with running_server(store) as origin:
        yield origin


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """A headless Chromium WebDriver with a throw-away profile."""
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if missing:
        pytest.skip(
            f"no browser for the record-page tests: {', '.join(missing)} absent"
            " (install with `apt-get install -y chromium chromium-driver`; .ci/run does)"
        )
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="record-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
