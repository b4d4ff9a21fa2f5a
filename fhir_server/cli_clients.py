"""`fhir-server clients ...`: register SMART Backend Services clients."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from fhir_server.security.clients import ClientRegistry
from fhir_server.settings import load_settings

clients_app = typer.Typer(help="Register the clients that may ask for access tokens")


def _registry(file: Path | None) -> ClientRegistry:
    return ClientRegistry(file or Path(load_settings().auth_clients_file))


@clients_app.command("add")
def add(
    name: Annotated[str, typer.Option(help="Who the client is, e.g. 'LNJP Hospital HIS'")],
    jwks_file: Annotated[
        Path, typer.Option(exists=True, dir_okay=False, help="The client's public JWKS (JSON)")
    ],
    scopes: Annotated[
        str, typer.Option(help="SMART scopes, space-separated: 'system/*.rs system/Observation.c'")
    ],
    facility: Annotated[
        str | None, typer.Option(help="The facility it acts for (HFR id or Organization id)")
    ] = None,
    break_glass: Annotated[
        bool, typer.Option(help="May request emergency (break-the-glass) access, always audited")
    ] = False,
    patient: Annotated[
        str | None,
        typer.Option(help="Patient id its patient/ scopes are limited to (a personal app)"),
    ] = None,
    rate_per_minute: Annotated[
        int | None, typer.Option(min=0, help="Its own request rate limit (0: none)")
    ] = None,
    max_body_bytes: Annotated[
        int | None, typer.Option(min=1, help="Its own request size limit, in bytes")
    ] = None,
    file: Annotated[
        Path | None, typer.Option(help="Clients file (default FHIR_AUTH_CLIENTS_FILE)")
    ] = None,
) -> None:
    """Register a client; prints its client_id (the `iss` and `sub` of its assertions)."""
    try:
        jwks = json.loads(jwks_file.read_text())
        client = _registry(file).add(
            name,
            jwks,
            scopes.split(),
            facility,
            break_glass,
            rate_per_minute=rate_per_minute,
            max_body_bytes=max_body_bytes,
            patient=patient,
        )
    except (ValueError, json.JSONDecodeError) as error:
        raise typer.BadParameter(str(error), param_hint="--jwks-file/--scopes") from None
    typer.echo(client.client_id)


@clients_app.command("disable")
def disable(
    client_id: Annotated[str, typer.Argument(help="The client to revoke")],
    file: Annotated[
        Path | None, typer.Option(help="Clients file (default FHIR_AUTH_CLIENTS_FILE)")
    ] = None,
) -> None:
    """Revoke a client: no new tokens, and its unexpired tokens are refused at once."""
    _set_disabled(client_id, True, file)


@clients_app.command("enable")
def enable(
    client_id: Annotated[str, typer.Argument(help="The client to allow again")],
    file: Annotated[
        Path | None, typer.Option(help="Clients file (default FHIR_AUTH_CLIENTS_FILE)")
    ] = None,
) -> None:
    """Allow a disabled client again."""
    _set_disabled(client_id, False, file)


def _set_disabled(client_id: str, disabled: bool, file: Path | None) -> None:
    try:
        client = _registry(file).set_disabled(client_id, disabled)
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="CLIENT_ID") from None
    typer.echo(f"{client.client_id}  {client.name}  {'disabled' if disabled else 'enabled'}")


@clients_app.command("list")
def list_(
    file: Annotated[
        Path | None, typer.Option(help="Clients file (default FHIR_AUTH_CLIENTS_FILE)")
    ] = None,
) -> None:
    """Show registered clients (public data only)."""
    for client in _registry(file).all():
        flags = (" break-glass" if client.break_glass else "") + (
            " DISABLED" if client.disabled else ""
        )
        typer.echo(
            f"{client.client_id}  {client.name}  facility={client.facility or '-'}"
            f"  scopes={' '.join(client.scopes)}{flags}"
        )
