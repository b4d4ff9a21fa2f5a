"""SQL on FHIR v2 views: ViewDefinition validation, FHIRPath compilation, the row runner,
the resource source and the output formats (see docs/views.md)."""
