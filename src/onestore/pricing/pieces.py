"""Pieces: the units of a basket line that share one discount history.

A line starts as one piece. When a discount takes some of its units (two of five shirts into a
mix-and-match set), the piece splits, and from then on each part carries its own discounts.
Priorities are processed top down; a piece discounted at one priority is *closed* for the lower
ones, except that with "compound across priorities" a piece carrying only compounded discounts
stays open to further compounded discounts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from onestore.pricing.model import Concurrency, Discount


@dataclass(slots=True)
class Piece:
    line: int
    quantity: Decimal
    amount: Decimal  # what these units cost now
    whole: bool  # whole units: may be split into sets; a weighed line never is
    applied: list[tuple[Discount, Decimal]] = field(default_factory=list)  # (discount, off)
    closed: bool = False  # no further line discounts (higher priority or best price/exclusive)
    compounded_only: bool = False  # open only to compounded discounts
    exclusive: bool = False  # an exclusive discount applies: no threshold either

    def after(
        self,
        quantity: Decimal,
        start_amount: Decimal,
        offs: list[tuple[Discount, Decimal]],
        *,
        across_priorities: bool,
    ) -> Piece:
        """The part of this piece that got ``offs`` (all at one priority) on ``quantity`` units."""
        used = [d for d, _ in offs]  # a unit in a set whose share rounds to 0 still used it
        # a set's paid units keep their 0.00 share on record: "the paid item of a 3 for 2"
        offs = [(d, off) for d, off in offs if off > 0 or d.is_multi_unit]
        total = sum((off for _, off in offs), Decimal(0))
        if not used:
            return Piece(
                self.line,
                quantity,
                start_amount,
                self.whole,
                list(self.applied),
                self.closed,
                self.compounded_only,
                self.exclusive,
            )
        compounded = all(d.concurrency is Concurrency.COMPOUNDED for d in used)
        exclusive = any(d.concurrency is Concurrency.EXCLUSIVE for d in used)
        return Piece(
            self.line,
            quantity,
            start_amount - total,
            self.whole,
            self.applied + offs,
            closed=not (compounded and across_priorities),
            compounded_only=True,
            exclusive=self.exclusive or exclusive,
        )
