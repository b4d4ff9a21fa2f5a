"""GET /metadata: a CapabilityStatement generated from what is really wired."""

from __future__ import annotations

from typing import Any

import orjson

from fhir_server import FHIR_VERSION, __version__
from fhir_server.instants import fhir_instant, now_utc
from fhir_server.operations.registry import all_operations
from fhir_server.rest.context import ServerContext
from fhir_server.validation.additional_types import SERVER_RESOURCE_TYPES

_TYPE_INTERACTIONS = (
    "read",
    "vread",
    "update",
    "patch",
    "delete",
    "history-instance",
    "history-type",
    "create",
    "search-type",
)
# parameters this server does not evaluate; they are left out rather than advertised
_UNSUPPORTED_PARAM_TYPES = ("special",)
# (`_has`, `_list`, `_type`, the result parameters are supported but are not
# SearchParameter definitions, so they never appear in `searchParam` either)
_UNSUPPORTED_CODES = ("_text", "_content", "_query", "_filter")


def capability_statement(ctx: ServerContext, base_url: str) -> bytes:
    # built once per base URL; the registry version keys it so runtime SearchParameters show
    key = (base_url, ctx.registry.version, ctx.settings.allow_multiple_delete, ctx.settings.auth)
    cached = ctx.capability_cache.get(key)
    if cached is None:
        cached = ctx.capability_cache[key] = orjson.dumps(build(ctx, base_url))
    return cached


def build(ctx: ServerContext, base_url: str) -> dict[str, Any]:
    conditional_delete = "multiple" if ctx.settings.allow_multiple_delete else "single"
    operations = all_operations()
    resources = []
    for type_ in sorted(SERVER_RESOURCE_TYPES):
        params = []
        for code, param in sorted(ctx.registry.for_type(type_).items()):
            if param.type in _UNSUPPORTED_PARAM_TYPES or code in _UNSUPPORTED_CODES:
                continue
            params.append({"name": code, "definition": param.url, "type": param.type})
        entry: dict[str, Any] = {
            "type": type_,
            "interaction": [{"code": code} for code in _TYPE_INTERACTIONS],
            "versioning": "versioned-update",
            "readHistory": True,
            "updateCreate": True,
            "conditionalCreate": True,
            "conditionalRead": "full-support",
            "conditionalUpdate": True,
            "conditionalDelete": conditional_delete,
            "searchParam": params,
        }
        ops = [
            {"name": op.name, "definition": op.definition_url, "documentation": op.documentation}
            for op in operations
            if op.levels & {"type", "instance"} and (op.types is None or type_ in op.types)
        ]
        if ops:
            entry["operation"] = ops
        resources.append(entry)
    system_ops = [
        {"name": op.name, "definition": op.definition_url}
        for op in operations
        if "system" in op.levels
    ]
    rest: dict[str, Any] = {
        "mode": "server",
        "documentation": (
            "Search: every official R4 search parameter except the special ones (e.g. near),"
            " _text, _content, _query and _filter (ignored and reported as warnings, 400 under"
            " Prefer: handling=strict). Supported: all modifiers and prefixes, token"
            " :in/:not-in (ValueSet url) and :above/:below (system|code, is-a hierarchy)"
            " through the terminology service, chains, _has, _list (stored Lists),"
            " _include/_revinclude (:iterate, *), _sort, _count, _summary, _elements, _total,"
            " keyset paging."
            " SearchParameter resources with status active are searchable at once for new"
            " resources and for existing ones after $reindex. Quantities are compared in"
            " the unit they were stored in (no UCUM conversion)."
            " Writes: codes under required bindings must be in the value set (422) when the"
            " server knows the value set; extensible ones outside it give a warning"
            " (FHIR_REQUIRED_BINDINGS, FHIR_EXTENSIBLE_BINDINGS); batch and atomic"
            " transaction Bundles with urn:uuid/urn:oid and"
            " conditional references; identical updates make no new version; ABHA numbers and"
            " addresses are checked and clear Aadhaar numbers refused (422); relative"
            " references must resolve (422) unless FHIR_REFERENTIAL_INTEGRITY=off; Slot"
            " booking, Task status, dispensing limits and Invoice totals are enforced."
            + _security_note(ctx)
        ),
        "resource": resources,
        "interaction": [
            {"code": "transaction"},
            {"code": "batch"},
            {"code": "history-system"},
            {"code": "search-system"},
        ],
    }
    if system_ops:
        rest["operation"] = system_ops
    if ctx.settings.auth != "off":
        rest["security"] = _security(base_url, bool(ctx.settings.cors_origins))
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": fhir_instant(now_utc()),
        "publisher": "fhir-server contributors",
        "kind": "instance",
        "software": {"name": "fhir-server", "version": __version__},
        "implementation": {
            "description": f"FHIR R4 server on {ctx.store.kind}",
            "url": base_url,
        },
        "fhirVersion": FHIR_VERSION,
        "format": ["application/fhir+json", "application/json"],
        "patchFormat": ["application/json-patch+json", "application/fhir+json"],
        "rest": [rest],
    }


def _security_note(ctx: ServerContext) -> str:
    if ctx.settings.auth == "off":
        return (
            " Security: authentication is off (allowed on a loopback address only); no"
            " scopes, facility boundaries or audit apply."
        )
    return (
        " Security: SMART Backend Services (client_credentials with private_key_jwt) or an"
        " external identity provider; SMART v1/v2 system/ and user/ scopes are enforced on"
        " every interaction (patient/ scopes within the token's patient; query-restricted"
        " scopes for read and search);"
        " records are stamped with the writing facility and read across facilities only"
        " with the patient's active Consent or audited break-the-glass; every request"
        " leaves an AuditEvent."
    )


def _security(base_url: str, cors: bool) -> dict[str, Any]:
    root = base_url.rstrip("/").removesuffix("/fhir")
    return {
        "cors": cors,
        "service": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
                        "code": "SMART-on-FHIR",
                    }
                ]
            }
        ],
        "extension": [
            {
                "url": "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris",
                "extension": [{"url": "token", "valueUri": root + "/auth/token"}],
            }
        ],
    }
