"""HIMS workflows as write rules: checks and side effects that run inside the write session.

Each module registers the rules for its resource types with `rules.write_rule`;
`rules.apply_write_rules` runs them from the one write path (rest/versioning.py), so every
interaction — create, update, patch, transaction entries — obeys them.
"""

from fhir_server.workflows import (
    appointments,
    audit_trail,
    billing,
    dispensing,
    integrity,
    rules,
    tasks,
)

__all__ = ["appointments", "audit_trail", "billing", "dispensing", "integrity", "rules", "tasks"]
