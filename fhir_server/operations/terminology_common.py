"""What the terminology operations share: the service, and the instance they run on."""

from __future__ import annotations

from typing import Any

import orjson

from fhir_server.errors import FhirError
from fhir_server.rest.context import ServerContext
from fhir_server.terminology.service import TerminologyService


def service(ctx: ServerContext) -> TerminologyService:
    if ctx.terminology is None:
        raise FhirError(501, "not-supported", "This server has no terminology service")
    ctx.terminology.refresh()
    return ctx.terminology


def stored_instance(ctx: ServerContext, type_: str, id_: str) -> dict[str, Any]:
    """The current version of `type_/id_` (instance-level operations), 404 when absent."""
    with ctx.store.session() as session:
        record = session.read(type_, id_)
    if record is None or record.deleted:
        raise FhirError(404, "not-found", f"{type_}/{id_} is not known")
    return orjson.loads(record.body)


def canonical(resource: dict[str, Any]) -> str:
    url = resource.get("url")
    if not isinstance(url, str):
        raise FhirError(400, "invalid", f"{resource.get('resourceType')} has no url")
    version = resource.get("version")
    return f"{url}|{version}" if version else url
