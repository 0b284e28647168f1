"""Request bodies of the transfer API.

Same rules as ``inventory.schemas``: unknown fields are refused, quantities are strict JSON
integers in range (``"5"``, ``5.0``, ``true`` and ``1.5`` are 422s naming the field before
anything is read). A received quantity may be 0 (nothing arrived), so it has its own type.
SKUs and location codes are checked against the catalog by the use case, on the same fields.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from onestore.inventory import model
from onestore.inventory.schemas import LocationRef, Quantity, Reference, SkuRef

Received = Annotated[int, Field(strict=True, ge=0, le=model.MAX_QUANTITY)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TransferLineIn(_Body):
    sku: SkuRef
    quantity: Quantity


class TransferIn(_Body):
    id: Annotated[str, Field(min_length=26, max_length=26)] | None = Field(
        None, description="A ULID you made; honoured as the transfer's id."
    )
    from_location: LocationRef
    to_location: LocationRef
    reference: Reference | None = None
    lines: list[TransferLineIn] = Field(min_length=1, max_length=model.MAX_LINES)


class ShipIn(_Body):
    carrier: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    tracking: Annotated[str, Field(min_length=1, max_length=100)] | None = None


class ReceiveLineIn(_Body):
    sku: SkuRef
    received: Received
    discrepancy_reason: Annotated[str, Field(min_length=1, max_length=64)] | None = Field(
        None, description="Required when received differs from what was shipped."
    )


class ReceiveIn(_Body):
    lines: list[ReceiveLineIn] = Field(
        default_factory=list,
        max_length=model.MAX_LINES,
        description="Lines that did not arrive as shipped; lines left out arrived in full.",
    )
