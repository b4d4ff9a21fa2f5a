"""The record page on a server with authentication on: it asks for a token, then works."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

pytest.importorskip("selenium", reason="selenium is not installed (pip install -e '.[test]')")

from selenium.webdriver.common.by import By

from fhir_server.security.clients import ClientRegistry
from tests.auth_support import assertion, new_key, token_form
from tests.live_server import running_server
from tests.web.conftest import REPO
from tests.web.test_record_page import SEED_ABHA, look_up, open_page, texts

_SERVER_FILES: dict[str, Any] = {}  # origin -> the clients file of that server


@pytest.fixture(scope="module")
def secured_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """(origin, access token) of a seeded server with FHIR_AUTH=smart."""
    folder = tmp_path_factory.mktemp("secured-record")
    store = f"sqlite:///{folder / 'fhir.db'}"
    subprocess.run(
        [sys.executable, "-m", "fhir_server", "seed", "--store", store],
        cwd=REPO,
        env={**os.environ, "FHIR_STORE": store},
        check=True,
        capture_output=True,
    )
    env = {
        "FHIR_AUTH": "smart",
        "FHIR_AUTH_KEY_FILE": str(folder / "key.pem"),
        "FHIR_AUTH_CLIENTS_FILE": str(folder / "clients.json"),
    }
    key = new_key()
    client = ClientRegistry(folder / "clients.json").add(
        "counter", key.public_jwks(), ["system/*.rs"]
    )
    with running_server(store, env=env) as origin:
        _SERVER_FILES[origin] = folder / "clients.json"
        signed = assertion(client.client_id, key, audience=f"{origin}/auth/token")
        response = httpx.post(f"{origin}/auth/token", data=token_form(signed))
        response.raise_for_status()
        yield origin, response.json()["access_token"]


def test_the_page_asks_for_a_token_then_shows_the_record(
    browser: Any, secured_server: tuple[str, str]
) -> None:
    origin, token = secured_server
    open_page(browser, origin)
    browser.execute_script("sessionStorage.clear()")
    assert look_up(browser, SEED_ABHA) == "error"
    status = browser.find_element(By.ID, "status").text
    assert "access token" in status and "401" in status
    assert browser.find_element(By.ID, "access").get_attribute("open") is not None
    browser.find_element(By.ID, "token").send_keys(token)
    browser.execute_script("document.getElementById('status').dataset.state = 'pending'")
    browser.find_element(By.ID, "token-save").click()
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(browser, 30).until(
        lambda d: (
            d.find_element(By.ID, "status").get_attribute("data-state") == "idle"
            and d.find_elements(By.CSS_SELECTOR, "#timeline li")
        )
    )
    assert any("Asha" in name for name in texts(browser, "#patient .names p"))
    # the token stays in this tab only: never in the page's URL
    assert token not in browser.current_url
    browser.execute_script("sessionStorage.clear()")


def test_the_page_says_when_another_facilitys_entries_are_withheld(
    browser: Any, secured_server: tuple[str, str]
) -> None:
    origin, _ = secured_server
    clients = _SERVER_FILES[origin]
    tokens = {}
    for facility in ("HFR-A", "HFR-B"):
        key = new_key()
        client = ClientRegistry(clients).add(
            facility, key.public_jwks(), ["system/*.cruds"], facility
        )
        signed = assertion(client.client_id, key, audience=f"{origin}/auth/token")
        tokens[facility] = httpx.post(f"{origin}/auth/token", data=token_form(signed)).json()[
            "access_token"
        ]
    # facility A records a result for the seeded patient; facility B has no consent
    note = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"text": "Sputum AFB"},
        "subject": {"reference": "Patient/pat-aam-asha"},
        "valueString": "negative",
    }
    made = httpx.post(
        f"{origin}/fhir/Observation",
        json=note,
        headers={"Authorization": f"Bearer {tokens['HFR-A']}"},
    )
    assert made.status_code == 201, made.text
    open_page(browser, origin)
    browser.execute_script("sessionStorage.clear()")
    browser.execute_script(
        "sessionStorage.setItem('fhir-access-token', arguments[0])", tokens["HFR-B"]
    )
    assert look_up(browser, SEED_ABHA) == "idle"
    notice = browser.find_element(By.ID, "withheld")
    assert notice.is_displayed()
    assert "Not the whole record" in notice.text and "Withheld 1 resource(s)" in notice.text
    assert "Sputum AFB" not in browser.find_element(By.ID, "timeline").text
    browser.execute_script("sessionStorage.clear()")
