"""The terminology service: code systems, value sets and concept maps (docs/terminology.md)."""
