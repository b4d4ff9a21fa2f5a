"""Loaders of full terminology releases the user supplies (never shipped): LOINC, SNOMED CT
RF2 and ICD-10, streamed into the concept store (`store.terminology`)."""
