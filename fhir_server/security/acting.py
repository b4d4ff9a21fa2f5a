"""Who the current request acts for, reachable from any layer without threading it through.

The HTTP gate sets it once per request; interactions run in worker threads that inherit
it (context variables are copied into the thread pool). Code that runs outside a request
(background jobs, the CLI, tests) sees None: no caller to restrict, because whoever
started the job was checked when it was started.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from fhir_server.security.principal import Principal

MAX_NOTED = 50


@dataclass
class AuditNotes:
    """What an interaction tells the audit record about the request it served."""

    patients: set[str] = field(default_factory=set)  # Patient ids whose data was touched
    entities: list[str] = field(default_factory=list)  # "Type/id" read or written (capped)
    withheld: int = 0  # resources left out by the facility boundary

    def touched(self, type_: str, id_: str, patients: list[str]) -> None:
        if self.full:
            return
        self.entities.append(f"{type_}/{id_}")
        self.patients.update(patients)

    @property
    def full(self) -> bool:
        # an audit record names the first resources, not a whole search page; the query
        # it also records says what the rest were
        return len(self.entities) >= MAX_NOTED


@dataclass
class Access:
    principal: Principal
    break_glass: bool = False  # the caller invoked emergency access for this request
    notes: AuditNotes = field(default_factory=AuditNotes)
    # facility -> patient ids its active consents cover, looked up once per request
    consented: dict[str, frozenset[str]] = field(default_factory=dict)
    # the request's audit record (security.audit.RequestAudit), and where it stands:
    # none -> pending (written inside the request's write transaction) -> committed
    request: Any = None
    audit_state: str = "none"


_CURRENT: ContextVar[Access | None] = ContextVar("fhir_server_access", default=None)


def current() -> Access | None:
    return _CURRENT.get()


def note_touched(type_: str, id_: str, patients: list[str]) -> None:
    """Tell the current request's audit record which resource (and patients) it touched."""
    access = _CURRENT.get()
    if access is not None:
        access.notes.touched(type_, id_, patients)


def current_principal() -> Principal | None:
    access = _CURRENT.get()
    return access.principal if access is not None else None


@contextmanager
def acting_as(access: Access | None) -> Iterator[Access | None]:
    token = _CURRENT.set(access)
    try:
        yield access
    finally:
        _CURRENT.reset(token)
