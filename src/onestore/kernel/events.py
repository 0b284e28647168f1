"""Domain events: facts a context announces so other contexts (and channels) can react.

Events are written to the outbox in the same transaction as the change they describe, so an
event exists if and only if the change committed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class DomainEvent:
    event_type: str  # e.g. "catalog.product_created"
    aggregate_type: str  # e.g. "product"
    aggregate_id: str
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PublishedEvent:
    """An event as it leaves the outbox: with its id (the de-duplication key) and time."""

    id: str
    seq: int
    event_type: str
    aggregate_type: str
    aggregate_id: str
    payload: dict[str, Any]
    occurred_at: datetime

    def subject(self, prefix: str = "onestore") -> str:
        """NATS subject, e.g. ``onestore.catalog.product_created``."""
        return f"{prefix}.{self.event_type}"
