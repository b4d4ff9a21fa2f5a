"""$reindex (system and type level): rebuild the search index in the background.

Needed after a SearchParameter is added or changed at run time, so that resources stored
before it become findable by it. `POST /fhir/$reindex` covers every type with resources
(or those named by `type` / `_type`), `POST /fhir/Observation/$reindex` one type. The
answer is 202 Accepted with `Content-Location` pointing at a `Task` that reports
`processed` / `total` and its status; see `reindex_jobs`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from fhir_server.errors import FhirError, Issue, operation_outcome
from fhir_server.operations.registry import Operation, register
from fhir_server.rest.context import RequestInfo, ServerContext
from fhir_server.rest.results import InteractionResult


def run_reindex(
    ctx: ServerContext,
    request: RequestInfo,
    type_: str | None,
    id_: str | None,
    params: Sequence[tuple[str, str]],
    body: Any,
) -> InteractionResult:
    if ctx.reindex_jobs is None:
        raise FhirError(503, "not-supported", "Background jobs are not running in this process")
    types = (type_,) if type_ is not None else _requested_types(ctx, params, body)
    job = ctx.reindex_jobs.start(types)
    status_url = f"{request.base_url}/Task/{job.id}"
    message = (
        f"Reindexing {job.total} resources of {', '.join(types) or 'no type'};"
        f" poll {status_url} for progress"
    )
    return InteractionResult(
        202,
        body=orjson.dumps(operation_outcome([Issue("information", "informational", message)])),
        headers={"Content-Location": status_url},
    )


def _requested_types(
    ctx: ServerContext, params: Sequence[tuple[str, str]], body: Any
) -> tuple[str, ...]:
    named = [v for k, v in params if k in ("type", "_type")]
    if isinstance(body, dict) and body.get("resourceType") == "Parameters":
        named += [
            p.get("valueCode") or p.get("valueString") or ""
            for p in body.get("parameter") or []
            if p.get("name") == "type"
        ]
    types = [t.strip() for value in named for t in value.split(",") if t.strip()]
    for t in types:
        if not ctx.registry.is_resource_type(t):
            raise FhirError(
                400, "invalid", f"Parameter 'type': unknown resource type {t!r}", ["type"]
            )
    if types:
        return tuple(dict.fromkeys(types))
    with ctx.store.session() as session:
        # only types that hold resources: a job over 140 empty types would be noise
        return tuple(
            t for t in sorted(ctx.registry.resource_types) if session.count((t,), None) > 0
        )


OPERATION = register(
    Operation(
        name="reindex",
        levels=frozenset({"system", "type"}),
        handler=run_reindex,
        definition_url="urn:fhir-server:OperationDefinition/reindex",
        affects_state=True,
        documentation=(
            "Rebuilds the search index in the background (needed after adding a"
            " SearchParameter); 202 with Content-Location of a Task reporting progress"
        ),
    )
)
