"""Engine, unit of work, shared tables (outbox, idempotency keys) and Alembic migrations."""
