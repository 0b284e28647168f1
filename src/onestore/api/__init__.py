"""The HTTP API: app factory, strict request parsing, problem+json errors, auth dependencies."""
