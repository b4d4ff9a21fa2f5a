"""FHIR R4 server for India's public health network."""

__version__ = "0.1.0"
FHIR_VERSION = "4.0.1"
