"""What inventory reads and use cases return: plain dataclasses, turned into JSON by the API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class BalanceView:
    """One SKU at one location. ``available`` already ignores lapsed soft reservations."""

    sku: str
    location: str
    on_hand: int
    reserved: int
    in_transit: int
    buffer: int
    available: int


@dataclass(frozen=True, slots=True)
class SkuAvailability:
    sku: str
    available: int  # summed over the locations asked about
    locations: list[BalanceView]


@dataclass(frozen=True, slots=True)
class MovementView:
    id: str
    seq: int
    sku: str
    location: str
    kind: str
    on_hand_delta: int
    in_transit_delta: int
    reason_code: str | None
    reference: str | None
    occurred_at: datetime
    actor: str | None


@dataclass(frozen=True, slots=True)
class MovementPage:
    items: list[MovementView]
    limit: int
    offset: int


@dataclass(frozen=True, slots=True)
class ReservationLineView:
    sku: str
    location: str
    quantity: int


@dataclass(frozen=True, slots=True)
class ReservationView:
    id: str
    kind: str
    status: str
    channel: str | None
    reference: str | None
    expires_at: datetime | None
    created_at: datetime
    updated_at: datetime
    lines: list[ReservationLineView]
