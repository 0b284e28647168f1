"""All configuration, from ``ONESTORE_*`` environment variables, read in one place.

The embedded default needs none: an SQLite file ``onestore.db`` in the current directory.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ONESTORE_", extra="ignore")

    database_url: str = Field(
        default="sqlite:///onestore.db",
        description="Any SQLAlchemy URL. postgresql:// uses psycopg 3.",
    )
    db_pool_size: int = Field(
        default=10, ge=1, le=200, description="PostgreSQL pool size per worker."
    )
    db_lock_timeout_ms: int = Field(default=5000, ge=1, description="PostgreSQL lock_timeout.")
    db_statement_timeout_ms: int = Field(
        default=30000, ge=1, description="PostgreSQL statement_timeout."
    )
    sqlite_busy_timeout_ms: int = Field(default=5000, ge=0, description="SQLite busy_timeout.")
    event_bus_url: str | None = Field(
        default=None, description="nats://host:port to publish the outbox to NATS JetStream."
    )
    event_delivery: Literal["background", "request"] = Field(
        default="background",
        description="Without an event bus URL, deliver events to in-process subscribers from a "
        "background thread per worker, or inside each write request after its commit.",
    )
    event_stream: str = Field(default="ONESTORE", description="JetStream stream name.")
    event_subject_prefix: str = Field(
        default="onestore",
        pattern=r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$",
        description="Events go to subject <prefix>.<event_type> (the stream takes <prefix>.>).",
    )
    idempotency_retention_hours: int = Field(
        default=24, ge=24, description="How long idempotency keys are kept (at least 24 h)."
    )
    session_idle_minutes: int = Field(
        default=15, ge=1, le=15, description="Back-office sessions end after this much idle time."
    )
    session_max_hours: int = Field(default=12, ge=1, description="Absolute session lifetime.")
    login_max_failures: int = Field(default=10, ge=1, le=10, description="Failures before lockout.")
    login_lockout_minutes: int = Field(default=30, ge=30, description="Lockout duration.")
    auth_cache_seconds: float = Field(
        default=5,
        ge=0,
        le=60,
        description="How long a worker remembers whom a bearer token belongs to (0: never). "
        "A revocation through the same worker applies at once, elsewhere within this time.",
    )
    opentelemetry: bool = Field(
        default=False,
        description="FastAPI's native OpenTelemetry spans, metrics and logs for every request "
        "(to the globally configured providers).",
    )
    max_body_bytes: int = Field(default=1_048_576, ge=1024, description="Largest request body.")
    secure_cookies: bool = Field(default=False, description="Mark session cookies Secure (HTTPS).")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
