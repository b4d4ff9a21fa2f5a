"""Registered SMART Backend Services clients: who may ask for a token, with which scopes.

The registry is a JSON file (`FHIR_AUTH_CLIENTS_FILE`) written by `fhir-server clients
add` and read by every worker; a worker re-reads it when its modification time changes,
so a client registered while the server runs can get a token at once. It holds public
keys only: a client proves itself with its private key, which never leaves it.
"""

from __future__ import annotations

import json
import os
import secrets
import threading
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from fhir_server.security.scopes import is_valid_scope_word


@dataclass(frozen=True)
class Client:
    client_id: str
    name: str
    jwks: dict[str, Any]  # the client's public keys ({"keys": [...]})
    scopes: tuple[str, ...]  # the most this client may be granted
    facility: str | None = None  # HFR id / Organization id the client acts for
    break_glass: bool = False  # may ask for emergency access (purpose BTG)
    disabled: bool = False
    patient: str | None = None  # the Patient id its `patient/` scopes are limited to
    rate_per_minute: int | None = None  # None: the server's FHIR_RATE_LIMIT_PER_MINUTE
    max_body_bytes: int | None = None  # None: the server's FHIR_MAX_BODY_BYTES
    extra: dict[str, Any] = field(default_factory=dict)


class ClientRegistry:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._mtime: float | None = None
        self._clients: dict[str, Client] = {}

    def get(self, client_id: str) -> Client | None:
        self._refresh()
        return self._clients.get(client_id)

    def all(self) -> list[Client]:
        self._refresh()
        return sorted(self._clients.values(), key=lambda c: c.name)

    def add(
        self,
        name: str,
        jwks: dict[str, Any],
        scopes: list[str],
        facility: str | None = None,
        break_glass: bool = False,
        rate_per_minute: int | None = None,
        max_body_bytes: int | None = None,
        patient: str | None = None,
    ) -> Client:
        bad = [s for s in scopes if not is_valid_scope_word(s)]
        if bad:
            raise ValueError(f"not SMART scopes: {', '.join(bad)}")
        keys = jwks.get("keys") if isinstance(jwks, dict) else None
        if not isinstance(keys, list) or not keys:
            raise ValueError('the JWKS must be a JSON object {"keys": [...]} with a public key')
        if any("d" in key for key in keys if isinstance(key, dict)):
            raise ValueError("the JWKS holds a private key; register the public key only")
        client = Client(
            client_id=secrets.token_urlsafe(16),
            name=name,
            jwks=jwks,
            scopes=tuple(scopes),
            facility=facility,
            break_glass=break_glass,
            rate_per_minute=rate_per_minute,
            max_body_bytes=max_body_bytes,
            patient=patient,
        )
        with self._lock:
            clients = self._read()
            clients[client.client_id] = client
            self._write(clients)
        return client

    def set_disabled(self, client_id: str, disabled: bool) -> Client:
        """Disable (revoke) or enable a client; its tokens stop working at once."""
        with self._lock:
            clients = self._read()
            if client_id not in clients:
                raise ValueError(f"no client {client_id!r}")
            clients[client_id] = replace(clients[client_id], disabled=disabled)
            self._write(clients)
        return clients[client_id]

    def _refresh(self) -> None:
        try:
            mtime = self.path.stat().st_mtime
        except FileNotFoundError:
            self._clients, self._mtime = {}, None
            return
        if mtime != self._mtime:
            with self._lock:
                self._clients, self._mtime = self._read(), mtime

    def _read(self) -> dict[str, Client]:
        try:
            raw = json.loads(self.path.read_text())
        except FileNotFoundError:
            return {}
        clients = {}
        for entry in raw.get("clients", []):
            entry["scopes"] = tuple(entry.get("scopes", ()))
            client = Client(**entry)
            clients[client.client_id] = client
        return clients

    def _write(self, clients: dict[str, Client]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(".tmp")
        data = {"clients": [asdict(c) for c in clients.values()]}
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            json.dump(data, out, indent=2)
        os.replace(temporary, self.path)  # readers see the old file or the new, never half
        self._mtime = None  # this process reads it again at once, whatever the clock says
