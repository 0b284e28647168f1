"""What the transfer use cases return: plain frozen dataclasses, turned into JSON by the API.

A transfer is shown with SKUs and location codes (what people read), plus its own id and
human number. The discrepancy of a received line is reported here, not hidden in the ledger:
a store that received 8 of 10 needs to see "-2, reason: damaged" on the transfer itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class TransferLineView:
    sku: str
    quantity: int  # asked for, held at the source, and shipped
    received: int | None  # None until the transfer is received
    discrepancy: int | None  # received - quantity: negative short (lost in transit), positive over
    discrepancy_reason: str | None


@dataclass(frozen=True, slots=True)
class TransferView:
    id: str
    number: str  # TR-000123
    status: str  # open | shipped | received | cancelled
    from_location: str
    to_location: str
    reservation_id: str | None  # the order hold keeping the units at the source while open
    reference: str | None
    carrier: str | None
    tracking: str | None
    created_by: str | None
    created_at: datetime
    shipped_at: datetime | None
    received_at: datetime | None
    updated_at: datetime
    units: int  # asked for and shipped, summed over the lines
    units_received: int | None
    units_short: int  # lost in transit (0 until received)
    units_over: int  # arrived beyond what was shipped (0 until received)
    lines: list[TransferLineView]


@dataclass(frozen=True, slots=True)
class TransferPage:
    items: list[TransferView]
    limit: int
    offset: int
