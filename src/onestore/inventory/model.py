"""The inventory domain: quantities, movement kinds, reservation rules and availability.

Pure rules, no database and no clock reads: the service passes in what they need. Two of them
carry the whole concurrency story and are worth knowing by heart:

* ``available = on_hand - reserved - buffer`` is the only definition of what may be promised;
  the service turns it into the ``WHERE`` of one conditional ``UPDATE`` so that the check and
  the change are one atomic step in the database.
* Lines are sorted by ``(variant_id, location_id)`` before any balance row is touched. Every
  transaction therefore takes its row locks in the same global order, which is what keeps
  two multi-line reservations from deadlocking each other (pretix and Saleor do the same).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from onestore.kernel.errors import Conflict, FieldError, ValidationFailed

MAX_QUANTITY = 1_000_000
"""Largest quantity one line may move: far above any real receipt, far below integer overflow."""
MAX_LINES = 200
"""Most lines one reservation may hold; a basket of more is a bulk load, not a reservation."""
MIN_TTL = timedelta(seconds=1)
MAX_TTL = timedelta(days=7)
"""Soft reservations hold stock for a cart or checkout; a week is already generous."""


MAX_ON_HAND = 1_000_000_000
"""The most units one balance may hold on hand or in transit (a ``CHECK`` on the table). A
billion is beyond any store or DC, and it keeps every sum the statements compute — the ceiling
plus a request's largest total — inside the 32-bit integers the columns are, so a runaway feed
gets a 409 naming the field instead of an arithmetic overflow (a 500 on PostgreSQL)."""


class StockCeiling(Conflict):
    """A change would take a balance over :data:`MAX_ON_HAND`."""

    slug = "stock-ceiling"
    title = "Over the stock ceiling"


class InsufficientStock(Conflict):
    """Not enough available stock for a line: a normal answer under contention, not a bug."""

    slug = "insufficient-stock"
    title = "Insufficient stock"


class MovementKind(StrEnum):
    RECEIPT = "receipt"
    SALE = "sale"
    RETURN = "return"
    TRANSFER_OUT = "transfer_out"
    TRANSFER_IN = "transfer_in"
    ADJUSTMENT = "adjustment"
    COUNT_VARIANCE = "count_variance"
    DAMAGE = "damage"


REASON_REQUIRED = frozenset({MovementKind.ADJUSTMENT, MovementKind.DAMAGE})
"""Kinds a person decides on rather than a document proves: they must say why."""


class ReservationKind(StrEnum):
    SOFT = "soft"  # a cart or checkout hold that expires by itself
    ORDER = "order"  # placed order: consumed at fulfilment or released on cancel


class ReservationStatus(StrEnum):
    """``commit`` turns a soft hold into an order hold and leaves it ACTIVE; ``fulfil`` consumes
    an active hold (the units leave on hand) and makes it FULFILLED."""

    ACTIVE = "active"
    RELEASED = "released"
    EXPIRED = "expired"
    FULFILLED = "fulfilled"


@dataclass(frozen=True, slots=True)
class LineRequest:
    """One requested line as the caller sent it; ``index`` is its position, for error fields."""

    variant_id: str
    location_id: str
    quantity: int
    index: int
    sku: str  # the codes as resolved, so an answer needs no look-up
    location: str


@dataclass(frozen=True, slots=True)
class Line:
    """A normalised line: one per (variant, location), merged from ``indexes`` of the request."""

    variant_id: str
    location_id: str
    quantity: int
    indexes: tuple[int, ...]
    sku: str
    location: str

    @property
    def key(self) -> tuple[str, str]:
        return (self.variant_id, self.location_id)

    @property
    def field(self) -> str:
        """The request field an error on this line names (the first line it came from)."""
        return f"lines.{self.indexes[0]}.quantity"


def check_quantity(value: object, field: str = "quantity") -> int:
    """A positive whole quantity of at most :data:`MAX_QUANTITY`.

    ``bool`` is refused although it is an ``int`` in Python (``True`` units is a client bug),
    and so are floats and strings: a fractional unit cannot be reserved or received.
    """
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationFailed.on(field, "must be a whole number")
    if value <= 0:
        raise ValidationFailed.on(field, "must be greater than 0")
    if value > MAX_QUANTITY:
        raise ValidationFailed.on(field, f"must be at most {MAX_QUANTITY}")
    return value


def check_count(value: object, field: str) -> int:
    """A whole number of units from 0 to :data:`MAX_QUANTITY`: a count (an empty shelf is 0),
    a quantity received (none may arrive), a buffer."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationFailed.on(field, "must be a whole number")
    if value < 0:
        raise ValidationFailed.on(field, "must be at least 0")
    if value > MAX_QUANTITY:
        raise ValidationFailed.on(field, f"must be at most {MAX_QUANTITY}")
    return value


def check_delta(value: object, field: str = "quantity") -> int:
    """A signed, non-zero adjustment of at most :data:`MAX_QUANTITY` either way."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationFailed.on(field, "must be a whole number")
    if value == 0:
        raise ValidationFailed.on(field, "must not be 0")
    if abs(value) > MAX_QUANTITY:
        raise ValidationFailed.on(field, f"must be between -{MAX_QUANTITY} and {MAX_QUANTITY}")
    return value


def check_reason(kind: MovementKind, reason_code: str | None) -> str | None:
    """Adjustments and damage must carry a reason code; other kinds may."""
    if kind in REASON_REQUIRED and not (reason_code and reason_code.strip()):
        raise ValidationFailed.on("reason_code", f"required for a {kind.value} movement")
    return reason_code


def available(on_hand: int, reserved: int, buffer: int) -> int:
    """What may still be promised, never shown below 0 (negative stock promises nothing)."""
    return max(0, on_hand - reserved - buffer)


def normalise_lines(lines: list[LineRequest]) -> list[Line]:
    """Merge duplicate (variant, location) lines and sort them in lock order.

    Merging matters twice: a reservation row holds one line per pair (its primary key), and the
    conditional ``UPDATE`` must see the *total* asked of a balance, or two half-lines could each
    pass a check the whole would fail.
    """
    if not lines:
        raise ValidationFailed.on("lines", "at least one line is required")
    if len(lines) > MAX_LINES:
        raise ValidationFailed.on("lines", f"at most {MAX_LINES} lines")
    merged: dict[tuple[str, str], Line] = {}
    errors: list[FieldError] = []
    for line in lines:
        check_quantity(line.quantity, f"lines.{line.index}.quantity")
        key = (line.variant_id, line.location_id)
        seen = merged.get(key)
        quantity = line.quantity + (seen.quantity if seen else 0)
        indexes = (seen.indexes if seen else ()) + (line.index,)
        if quantity > MAX_QUANTITY:
            errors.append(
                FieldError(f"lines.{line.index}.quantity", f"lines add up to over {MAX_QUANTITY}")
            )
        merged[key] = Line(
            line.variant_id, line.location_id, quantity, indexes, line.sku, line.location
        )
    if errors:
        raise ValidationFailed(f"{errors[0].field}: {errors[0].reason}", errors=errors)
    return [merged[key] for key in sorted(merged)]


def soft_expiry(kind: ReservationKind, now: datetime, ttl: timedelta | None) -> datetime | None:
    """When a new reservation expires: soft ones need a TTL in range, order ones take none."""
    if kind is ReservationKind.ORDER:
        if ttl is not None:
            raise ValidationFailed.on("ttl_seconds", "order reservations do not expire")
        return None
    if ttl is None:
        raise ValidationFailed.on("ttl_seconds", "required for a soft reservation")
    check_ttl(ttl)
    return now + ttl


def check_ttl(ttl: timedelta) -> timedelta:
    if not MIN_TTL <= ttl <= MAX_TTL:
        raise ValidationFailed.on(
            "ttl_seconds",
            f"must be between {int(MIN_TTL.total_seconds())} and {int(MAX_TTL.total_seconds())}",
        )
    return ttl


def is_lapsed(kind: ReservationKind, expires_at: datetime | None, now: datetime) -> bool:
    """A soft reservation past its expiry holds nothing, whether or not the sweeper has run."""
    return kind is ReservationKind.SOFT and expires_at is not None and expires_at <= now
