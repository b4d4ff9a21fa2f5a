"""HTTP layer: FastAPI routes, content negotiation, headers, errors as OperationOutcome."""
