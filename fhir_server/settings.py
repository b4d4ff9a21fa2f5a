"""One settings object, read once from the environment (prefix FHIR_) and passed in."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from fhir_server.abdm.abha import ABHA_NUMBER_SYSTEMS


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FHIR_", extra="ignore")

    store: str = Field(
        "sqlite:///data/fhir.db",
        description="sqlite:///path/to/file.db (folder created) or mongodb://host/db",
    )
    mongo_database: str = Field("fhir", description="Database name when the URL names none")
    base_url: str | None = Field(
        None,
        description="Public FHIR base, e.g. https://fhir.example.in/fhir (default: from request)",
    )
    max_body_bytes: int = Field(64 * 1024 * 1024, description="Largest request body accepted")
    max_json_depth: int = Field(64, description="Deepest JSON nesting accepted")
    default_count: int = Field(20, ge=1)
    max_count: int = Field(1000, ge=1)
    allow_multiple_delete: bool = Field(
        False, description="Conditional delete may remove several matches (else 412)"
    )
    validate_schema_on_write: bool = Field(
        False,
        description="Also run the R4 JSON Schema on each write (slow; $validate always does)",
    )
    default_timezone: str = Field(
        "UTC", description="Zone for search dates written without one (e.g. Asia/Kolkata)"
    )
    sqlite_busy_timeout_ms: int = Field(30_000, ge=0)
    referential_integrity: Literal["enforce", "off"] = Field(
        "enforce", description="Refuse (422) relative references to resources not on the server"
    )
    aadhaar_policy: Literal["reject", "hash"] = Field(
        "reject", description="A clear Aadhaar number on write: refuse (422) or keyed-hash it"
    )
    aadhaar_hash_key: str = Field("", description="Secret key for the Aadhaar keyed hash")

    auth: Literal["off", "smart"] = Field(
        "off",
        description="off: no authentication (loopback only); smart: every FHIR request needs"
        " a bearer token (SMART Backend Services or an external identity provider)",
    )
    insecure_allow_unauthenticated_network_access: bool = Field(
        False,
        description="Let `serve` listen on a non-loopback address with auth off (anyone who"
        " can reach the port can read and change every record)",
    )
    auth_key_file: str = Field(
        "data/auth-signing-key.pem", description="The server's token signing key (created)"
    )
    auth_clients_file: str = Field(
        "data/auth-clients.json", description="Registered clients (`fhir-server clients add`)"
    )
    audit: bool = Field(
        True,
        description="With auth on, record an AuditEvent for every request under /fhir before"
        " its response is sent",
    )
    rate_limit_per_minute: int = Field(
        6000,
        ge=0,
        description="Requests a minute each client may send, per worker (0: no limit; a"
        " client's registration may set its own)",
    )
    cors_origins: list[str] = Field(
        default_factory=list,
        description="Browser origins allowed to call the API (CORS); none by default",
    )
    auth_token_seconds: int = Field(300, ge=30, le=3600, description="Access token lifetime")
    auth_issuer: str | None = Field(
        None, description="`iss` of issued tokens (default: the server's URL + /auth)"
    )
    auth_external_issuer: str | None = Field(
        None, description="Issuer of an external identity provider whose tokens are accepted"
    )
    auth_external_jwks_url: str | None = Field(None, description="That provider's JWKS URL")
    auth_external_audience: str | None = Field(
        None, description="The `aud` that provider puts in tokens for this server"
    )
    auth_external_scope_claim: str = Field("scope", description="Claim holding SMART scopes")
    auth_external_facility_claim: str = Field(
        "facility", description="Claim holding the caller's facility (HFR id)"
    )
    abha_number_systems: list[str] = Field(
        default_factory=lambda: list(ABHA_NUMBER_SYSTEMS),
        description="Identifier systems treated as ABHA numbers (all count as one health ID)",
    )
    search_parameter_recheck_seconds: float = Field(
        0.0,
        ge=0,
        description="How often a worker checks the store for SearchParameters other workers"
        " stored (0 = before every request; a check is two index look-ups)",
    )
    terminology_recheck_seconds: float = Field(
        0.0,
        ge=0,
        description="How often a worker checks the store for CodeSystems/ValueSets/ConceptMaps"
        " other workers stored or loaded (0 = before every terminology use)",
    )
    terminology_max_expansion: int = Field(
        10_000, ge=1, description="Codes an unfiltered $expand may return (more: 422 too-costly)"
    )
    terminology_dir: str | None = Field(
        None, description="Shipped terminology content (default: the terminology/ folder)"
    )
    required_bindings: Literal["error", "warn", "ignore"] = Field(
        "error",
        description="A code outside the value set of a required binding: refuse (422), warn"
        " in the write's OperationOutcome, or ignore (for migrations)",
    )
    extensible_bindings: Literal["warn", "error", "ignore"] = Field(
        "warn",
        description="A code outside the value set of an extensible binding: warn, refuse"
        " (422, strict) or ignore",
    )

    export_dir: str = Field(
        "data/exports", description="Folder for bulk $export jobs and their NDJSON files"
    )
    export_retention_seconds: float = Field(
        86_400.0, gt=0, description="How long finished $export files are kept before removal"
    )
    export_file_max_resources: int = Field(
        100_000, ge=1, description="Resources per NDJSON file; a type with more gets several"
    )
    export_requires_access_token: bool = Field(
        False,
        description="`requiresAccessToken` in $export manifests (true once authentication lands)",
    )
    export_max_running: int = Field(
        2, ge=1, description="$export jobs one worker process runs at once (more get 429)"
    )


def load_settings(**overrides: object) -> Settings:
    return Settings(**overrides)  # type: ignore[arg-type]
