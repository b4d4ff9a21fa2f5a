"""Authentication, SMART scopes, facility boundaries, consent and audit."""
