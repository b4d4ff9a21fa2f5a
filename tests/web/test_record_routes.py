"""The record page is served from the package with a strict CSP and no inline code."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from fhir_server.api.app import create_app
from fhir_server.settings import Settings
from fhir_server.storage.sqlite import SQLiteStore
from fhir_server.web.routes import ASSETS, STATIC


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    store = SQLiteStore(str(tmp_path / "fhir.db"))
    app = create_app(Settings(store="sqlite:///unused.db"), store=store)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def test_page_has_a_strict_content_security_policy(client: TestClient) -> None:
    response = client.get("/record")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp
    assert "default-src 'none'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "no-store"


@pytest.mark.parametrize("name", sorted(ASSETS))
def test_every_asset_is_served_with_its_media_type(client: TestClient, name: str) -> None:
    response = client.get(f"/record/{name}")
    assert response.status_code == 200
    assert response.headers["content-type"] == ASSETS[name]
    assert "script-src 'self'" in response.headers["content-security-policy"]


@pytest.mark.parametrize("path", ["/record/routes.py", "/record/..%2Froutes.py", "/record/x.js"])
def test_only_listed_assets_are_served(client: TestClient, path: str) -> None:
    assert client.get(path).status_code == 404


def test_every_static_file_is_listed_and_every_listed_file_exists() -> None:
    on_disk = {p.name for p in STATIC.iterdir() if p.is_file()} - {"record.html"}
    assert on_disk == set(ASSETS)


def test_html_has_no_inline_script_style_or_handlers() -> None:
    html = (STATIC / "record.html").read_text(encoding="utf-8")
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == []
    assert "<style" not in html and " style=" not in html
    assert re.findall(r"\son[a-z]+\s*=", html) == []
    # everything is local: no CDN or other origin
    assert re.findall(r"(?:src|href)=\"(?:https?:)?//", html) == []


@pytest.mark.parametrize("name", sorted(n for n in ASSETS if n.endswith(".js")))
def test_scripts_never_write_markup(name: str) -> None:
    source = (STATIC / name).read_text(encoding="utf-8")
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert sink not in source, f"{name} uses {sink}"
