"""Interactions: one module per FHIR interaction. No HTTP objects here."""
