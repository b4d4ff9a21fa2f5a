"""One settings object, read once from the environment (prefix FHIR_) and passed in."""

from __future__ import annotations

import os
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
    validation_workers: int = Field(
        default_factory=lambda: os.cpu_count() or 1,
        ge=0,
        description="Processes that validate big bundles in parallel (0: in the server process)",
    )


def load_settings(**overrides: object) -> Settings:
    return Settings(**overrides)  # type: ignore[arg-type]
