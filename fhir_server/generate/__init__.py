"""A synthetic but realistic Delhi public-health network, as FHIR transaction Bundles.

Everything here is invented: facility names and PIN codes are real places, but every
person, identifier and record is made up. Output is deterministic (fixed dates, ids
from counters, `random.Random(seed)` for choices), so the same inputs always give the
same bytes: `seed_bundles/` is produced by `python -m fhir_server.generate` and
`fhir-server generate` writes larger networks of the same shape.

Modules: `fhir` (small builders), `places` (districts, facilities), `names` (Latin and
Devanagari names), `clinical` (codes and reference ranges), `facilities` (organisations,
staff, schedules, slots), `records` (patients and their visits), `billing` (charges,
invoices, coverage, claims), `stories` (the hand-written seed patients), `network`
(assembling files), `documents` (ABDM document Bundles), `output` (stable JSON).
"""
