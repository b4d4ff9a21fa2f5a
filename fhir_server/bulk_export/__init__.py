"""Bulk Data `$export` (HL7 FHIR Bulk Data Access IG v2): kick-off parameters, NDJSON
writing, and background jobs whose state lives in a shared folder (see docs/bulk-export.md).
"""
