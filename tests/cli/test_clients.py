"""`fhir-server clients add|list`, and `serve` refusing to expose an open server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fhir_server.cli import app
from fhir_server.security.clients import ClientRegistry
from tests.auth_support import new_key

runner = CliRunner()


def _jwks_file(tmp_path: Path, private: bool = False) -> Path:
    jwks = new_key().public_jwks()
    if private:
        jwks["keys"][0]["d"] = "secret"
    path = tmp_path / "client.jwks.json"
    path.write_text(json.dumps(jwks))
    return path


def test_add_registers_a_client_and_list_shows_it(tmp_path: Path) -> None:
    clients = tmp_path / "clients.json"
    result = runner.invoke(
        app,
        [
            "clients",
            "add",
            "--name",
            "LNJP Hospital HIS",
            "--jwks-file",
            str(_jwks_file(tmp_path)),
            "--scopes",
            "system/*.rs system/Observation.c",
            "--facility",
            "IN0710000123",
            "--file",
            str(clients),
        ],
    )
    assert result.exit_code == 0, result.output
    client_id = result.output.strip()
    registered = ClientRegistry(clients).get(client_id)
    assert registered is not None
    assert registered.scopes == ("system/*.rs", "system/Observation.c")
    assert registered.facility == "IN0710000123"
    assert oct(clients.stat().st_mode & 0o777) == "0o600"
    listed = runner.invoke(app, ["clients", "list", "--file", str(clients)])
    assert client_id in listed.output and "LNJP Hospital HIS" in listed.output


@pytest.mark.parametrize(
    ("scopes", "private", "message"),
    [
        ("system/Patient.xyz", False, "not SMART scopes"),
        ("system/*.rs", True, "private key"),
    ],
)
def test_add_refuses_bad_scopes_and_private_keys(
    tmp_path: Path, scopes: str, private: bool, message: str
) -> None:
    clients = tmp_path / "clients.json"
    result = runner.invoke(
        app,
        [
            "clients",
            "add",
            "--name",
            "x",
            "--jwks-file",
            str(_jwks_file(tmp_path, private)),
            "--scopes",
            scopes,
            "--file",
            str(clients),
        ],
    )
    assert result.exit_code != 0
    assert message in result.output
    assert not clients.exists()


def test_serve_refuses_a_network_address_without_auth(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FHIR_STORE", f"sqlite:///{tmp_path}/x.db")
    monkeypatch.delenv("FHIR_AUTH", raising=False)
    started: list[str] = []
    monkeypatch.setattr("uvicorn.run", lambda *a, **k: started.append(k["host"]))
    refused = runner.invoke(app, ["serve", "--host", "0.0.0.0", "--auth", "off"])
    assert refused.exit_code == 2
    assert "Refusing to listen on 0.0.0.0" in refused.output
    assert started == []
    for args in (
        ["serve", "--host", "127.0.0.1", "--auth", "off"],
        ["serve", "--host", "::1", "--auth", "off"],
        ["serve", "--host", "0.0.0.0", "--auth", "smart"],
        ["serve", "--host", "0.0.0.0", "--insecure-allow-unauthenticated-network-access"],
    ):
        monkeypatch.delenv("FHIR_AUTH", raising=False)
        result = runner.invoke(app, args)
        assert result.exit_code == 0, (args, result.output)
    assert started == ["127.0.0.1", "::1", "0.0.0.0", "0.0.0.0"]


def test_disable_and_enable(tmp_path: Path) -> None:
    clients = tmp_path / "clients.json"
    added = runner.invoke(
        app,
        [
            "clients",
            "add",
            "--name",
            "AAM Okhla",
            "--jwks-file",
            str(_jwks_file(tmp_path)),
            "--scopes",
            "system/*.rs",
            "--file",
            str(clients),
        ],
    )
    client_id = added.output.strip()
    disabled = runner.invoke(app, ["clients", "disable", client_id, "--file", str(clients)])
    assert disabled.exit_code == 0 and "disabled" in disabled.output
    assert ClientRegistry(clients).get(client_id).disabled  # type: ignore[union-attr]
    listed = runner.invoke(app, ["clients", "list", "--file", str(clients)])
    assert "DISABLED" in listed.output
    runner.invoke(app, ["clients", "enable", client_id, "--file", str(clients)])
    assert not ClientRegistry(clients).get(client_id).disabled  # type: ignore[union-attr]
    unknown = runner.invoke(app, ["clients", "disable", "nobody", "--file", str(clients)])
    assert unknown.exit_code != 0 and "no client" in unknown.output
