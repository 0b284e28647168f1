"""Request bodies of the inventory API.

Quantities are strict JSON integers (``"5"``, ``5.0``, ``true`` and ``1.5`` are refused) in
range, so a bad one is a 422 naming ``lines.N.quantity`` before anything is read. Unknown fields
are refused. SKU and location references are checked against the catalog by the use case,
which names the same fields.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from onestore.inventory import model

Quantity = Annotated[int, Field(strict=True, ge=1, le=model.MAX_QUANTITY)]
Delta = Annotated[int, Field(strict=True, ge=-model.MAX_QUANTITY, le=model.MAX_QUANTITY)]
SkuRef = Annotated[str, Field(min_length=1, max_length=64)]
LocationRef = Annotated[str, Field(min_length=1, max_length=32)]
Reference = Annotated[str, Field(min_length=1, max_length=100)]
TtlSeconds = Annotated[
    int,
    Field(
        strict=True,
        ge=int(model.MIN_TTL.total_seconds()),
        le=int(model.MAX_TTL.total_seconds()),
        description="How long a soft reservation holds, in seconds.",
    ),
]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ReceiptIn(_Body):
    sku: SkuRef
    location: LocationRef
    quantity: Quantity
    reference: Reference | None = None


class ReceiptLineIn(_Body):
    sku: SkuRef
    quantity: Quantity


class GoodsReceiptIn(_Body):
    """One delivery (an ASN, a purchase order) at one location: every line or none."""

    location: LocationRef
    reference: Reference | None = None
    lines: list[ReceiptLineIn] = Field(min_length=1, max_length=model.MAX_LINES)


class AdjustmentIn(_Body):
    sku: SkuRef
    location: LocationRef
    quantity: Delta = Field(description="Signed: negative takes stock away. Not 0.")
    reason_code: Annotated[str, Field(min_length=1, max_length=64)]
    kind: Literal["adjustment", "damage", "count_variance"] = "adjustment"
    reference: Reference | None = None


class LineIn(_Body):
    sku: SkuRef
    location: LocationRef
    quantity: Quantity


class ReservationIn(_Body):
    id: Annotated[str, Field(min_length=26, max_length=26)] | None = Field(
        None, description="A ULID you made; honoured as the reservation's id."
    )
    kind: Literal["soft", "order"] = "soft"
    ttl_seconds: TtlSeconds | None = Field(None, description="Required for soft; none for order.")
    channel: Annotated[str, Field(min_length=1, max_length=32)] | None = None
    reference: Reference | None = None
    lines: list[LineIn] = Field(min_length=1, max_length=model.MAX_LINES)


class ExtendIn(_Body):
    ttl_seconds: TtlSeconds
