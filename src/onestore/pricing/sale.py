"""One pricing run's working state, shared by the engine, the thresholds and the explanation."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from onestore.pricing.book import PriceBook
from onestore.pricing.model import Discount, ItemFilter, PricingContext, PricingLine
from onestore.pricing.pieces import Piece


@dataclass(slots=True)
class Sale:
    """One pricing run: the basket, its context, the discounts in scope and the pieces."""

    book: PriceBook
    lines: Sequence[PricingLine]
    ctx: PricingContext
    quantum: Decimal
    refusals: dict[str, str | None]
    about: list[list[Discount]]  # per line: every discount whose items match it
    live: list[list[Discount]]  # per line: those in scope (thresholds excluded)
    pieces: list[Piece]
    live_codes: list[set[str]] = field(default_factory=list)  # per line: codes of ``live``
    thresholds: dict[str, tuple[list[int], Decimal]] = field(default_factory=dict)  # pieces, base
    shortfalls: dict[str, str | None] = field(default_factory=dict)  # explanation, per offer
    _matches: dict[tuple[int, int], bool] = field(default_factory=dict)

    def matches(self, items: ItemFilter, k: int) -> bool:
        """``items.matches(lines[k])``, remembered: the same rules are asked about the same
        line by the search, the thresholds and the explanation."""
        key = (id(items), k)
        found = self._matches.get(key)
        if found is None:
            found = self._matches[key] = items.matches(self.lines[k])
        return found

    def refusal(self, d: Discount) -> str | None:
        if d.code not in self.refusals:
            reason = d.scope.refusal(self.ctx)
            if reason is None and d.coupon_required and d.code not in self.ctx.coupon_discounts:
                reason = "needs its coupon code"
            if reason is None and d.currency is not None and d.currency != self.ctx.currency:
                reason = f"defined in {d.currency}, the sale is in {self.ctx.currency}"
            self.refusals[d.code] = reason
        return self.refusals[d.code]
