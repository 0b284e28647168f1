"""One pricing run's working state, shared by the engine, the thresholds and the explanation."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from onestore.pricing.book import About, PriceBook
from onestore.pricing.model import (
    Candidate,
    Discount,
    PricingContext,
    PricingLine,
    ThresholdTier,
    Why,
)
from onestore.pricing.pieces import Piece

NEEDS_COUPON = "needs its coupon code"


@dataclass(slots=True)
class Sale:
    """One pricing run: the basket, its context, the discounts in scope and the pieces.

    Lines of the same kind share one :class:`~onestore.pricing.book.About` from the book, so
    which discounts are in scope is worked out once per sale and kind, not once per line."""

    book: PriceBook
    lines: Sequence[PricingLine]
    ctx: PricingContext
    quantum: Decimal
    about: list[About] = field(default_factory=list)  # per line: the discounts it matches
    at_priority: list[dict[int, list[Discount]]] = field(default_factory=list)
    # per line: the discounts in scope, thresholds aside, by priority
    pieces: list[Piece] = field(default_factory=list)
    grosses: list[Decimal] = field(default_factory=list)  # per line: unit price × quantity
    refusals: dict[str, str | None] = field(default_factory=dict)
    thresholds: dict[str, tuple[list[int], Decimal, ThresholdTier | None]] = field(
        default_factory=dict
    )  # per threshold: its pieces, their amount before any threshold, the tier it reaches
    pieces_of: dict[int, list[int]] = field(default_factory=dict)  # line -> its pieces, at the end
    shut: tuple[set[int], set[int]] | None = None  # lines no threshold / no exclusive one counts
    shortfalls: dict[str, str | None] = field(default_factory=dict)  # explanation, per offer
    explained: dict[tuple[object, ...], dict[str, Candidate]] = field(default_factory=dict)
    # what a line got (see ``explain.explain_line``) -> discount code -> why it gave nothing
    verdicts: dict[tuple[object, ...], tuple[Why, str]] = field(default_factory=dict)
    # what a line got, seen from a discount's priority and concurrency -> why it lost
    _lines: dict[str, list[int]] | None = None
    _live: dict[int, dict[int, list[Discount]]] = field(default_factory=dict)

    def add_line(self, about: About) -> None:
        """Record line ``len(self.about)``'s discounts and which of them are in scope."""
        self.about.append(about)
        live = self._live.get(id(about))
        if live is None:
            live = self._live[id(about)] = {}
            for d in about.line_discounts:
                if self.refusal(d) is None:
                    live.setdefault(d.priority, []).append(d)
        self.at_priority.append(live)

    def in_group(self, d: Discount, group: int, k: int) -> bool:
        """Whether line ``k`` matches ``d.filters[group]`` (the book worked it out)."""
        return group in self.about[k].groups.get(d.code, ())

    def lines_about(self, d: Discount) -> list[int]:
        """The lines ``d``'s item rules match."""
        if self._lines is None:
            self._lines = {}
            for k, about in enumerate(self.about):
                for code in about.groups:
                    self._lines.setdefault(code, []).append(k)
        return self._lines.get(d.code, [])

    def refusal(self, d: Discount) -> str | None:
        """Why ``d`` is out of this sale's scope, or ``None``: worked out once per discount."""
        try:
            return self.refusals[d.code]
        except KeyError:
            pass
        reason = d.scope.refusal(self.ctx)
        if reason is None and d.coupon_required and d.code not in self.ctx.coupon_discounts:
            reason = NEEDS_COUPON
        if reason is None and d.currency is not None and d.currency != self.ctx.currency:
            reason = f"defined in {d.currency}, the sale is in {self.ctx.currency}"
        self.refusals[d.code] = reason
        return reason
