"""The price book: every price, price group, discount and tax rate at one data version.

Built once per data version (the service keeps the latest in memory) and then only read, so
pricing a basket never queries discount tables. Discounts are indexed by the SKUs, products and
categories they name, so a 20-line basket looks at the few discounts about its goods, not at
every live promotion.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from onestore.kernel.errors import ValidationFailed
from onestore.kernel.money import Money
from onestore.pricing.model import (
    Discount,
    Kind,
    PriceEntry,
    PriceGroup,
    PricingContext,
    PricingLine,
    TaxRate,
)


@dataclass(frozen=True, slots=True, eq=False)
class About:
    """The discounts whose item rules match one kind of line, and which of their groups it
    falls in — worked out once per SKU for the life of the book, and shared by every SKU with
    the same answer (so a sale works out once per answer which of them are in scope).

    ``groups[code]`` holds the indexes into ``Discount.filters`` that match: ``(0,)`` for a
    discount with one item rule; for a set offer, the groups the line can fill."""

    discounts: tuple[Discount, ...]
    groups: dict[str, tuple[int, ...]]
    line_discounts: tuple[Discount, ...] = ()  # the ``discounts`` that are not thresholds
    thresholds: tuple[Discount, ...] = ()


NOTHING = About((), {})


def _in_range(day: date, start: date | None, end: date | None) -> bool:
    return (start is None or start <= day) and (end is None or day <= end)


@dataclass(slots=True)
class PriceBook:
    version: int
    groups: dict[str, PriceGroup]
    discounts: dict[str, Discount]
    tax_rates: tuple[TaxRate, ...] = ()
    product_tax_groups: dict[str, str] = field(default_factory=dict)  # product code -> group
    _prices: dict[str, list[PriceEntry]] = field(default_factory=dict)
    _by_sku: dict[str, list[Discount]] = field(default_factory=dict)
    _by_product: dict[str, list[Discount]] = field(default_factory=dict)
    _by_category: dict[str, list[Discount]] = field(default_factory=dict)
    _everything: list[Discount] = field(default_factory=list)
    _about: dict[tuple[str, str, frozenset[str]], About] = field(default_factory=dict)
    _shared: dict[tuple[tuple[str, tuple[int, ...]], ...], About] = field(default_factory=dict)

    @classmethod
    def build(
        cls,
        *,
        version: int,
        groups: Iterable[PriceGroup],
        prices: Iterable[PriceEntry],
        discounts: Iterable[Discount],
        tax_rates: Iterable[TaxRate] = (),
        product_tax_groups: dict[str, str] | None = None,
    ) -> PriceBook:
        book = cls(
            version=version,
            groups={g.code: g for g in groups},
            discounts={},
            tax_rates=tuple(tax_rates),
            product_tax_groups=dict(product_tax_groups or {}),
        )
        by_sku: dict[str, list[PriceEntry]] = defaultdict(list)
        for entry in prices:
            by_sku[entry.sku].append(entry)
        book._prices = dict(by_sku)
        for discount in sorted(discounts, key=lambda d: d.code):
            book.add_discount(discount)
        return book

    def add_discount(self, discount: Discount) -> None:
        self.discounts[discount.code] = discount
        seen: set[tuple[str, str]] = set()
        for items in discount.filters:
            if items.everything:
                keys: list[tuple[str, str]] = [("*", "*")]
            else:
                keys = [("s", s) for s in items.skus]
                keys += [("p", p) for p in items.products]
                keys += [("c", c) for c in items.categories]
            for key in keys:
                if key in seen:
                    continue
                seen.add(key)
                kind, value = key
                if kind == "*":
                    self._everything.append(discount)
                else:
                    index = {"s": self._by_sku, "p": self._by_product, "c": self._by_category}
                    index[kind].setdefault(value, []).append(discount)

    # -- reading ---------------------------------------------------------------------------
    def prices(self) -> list[PriceEntry]:
        """Every price entry in the book."""
        return [entry for entries in self._prices.values() for entry in entries]

    def about(self, line: PricingLine) -> About:
        """What :class:`About` says of ``line``: remembered per (SKU, product, categories),
        since the book never changes once built."""
        key = (line.sku, line.product, line.categories)
        known = self._about.get(key)
        if known is None:
            known = self._about[key] = self._about_line(line)
        return known

    def _about_line(self, line: PricingLine) -> About:
        found: dict[str, tuple[Discount, tuple[int, ...]]] = {}
        pools = [
            self._everything,
            self._by_sku.get(line.sku, ()),
            self._by_product.get(line.product, ()),
        ]
        pools += [self._by_category.get(c, ()) for c in line.categories]
        for pool in pools:
            for discount in pool:
                if discount.code in found:
                    continue
                groups = tuple(g for g, f in enumerate(discount.filters) if f.matches(line))
                if groups:
                    found[discount.code] = (discount, groups)
        codes = sorted(found)
        key = tuple((c, found[c][1]) for c in codes)
        shared = self._shared.get(key)
        if shared is None:
            discounts = tuple(found[c][0] for c in codes)
            shared = self._shared[key] = About(
                discounts,
                {c: found[c][1] for c in codes},
                tuple(d for d in discounts if d.kind is not Kind.THRESHOLD),
                tuple(d for d in discounts if d.kind is Kind.THRESHOLD),
            )
        return shared

    def applicable_groups(self, ctx: PricingContext) -> dict[str, int]:
        """Price groups that apply to this sale, with their priority."""
        return {g.code: g.priority for g in self.groups.values() if g.applies(ctx)}

    def resolve_price(
        self,
        sku: str,
        list_price: Money | None,
        ctx: PricingContext,
        groups: dict[str, int],
        *,
        field: str,
    ) -> tuple[Money, str]:
        """The unit price this sale starts from and where it came from.

        The highest-priority group with a price wins; among groups of equal priority the lowest
        price wins. Without a group price the variant's list price applies if it is in the
        channel's currency; otherwise there is no price and the line is refused.
        """
        day = ctx.at.date()
        best: tuple[int, Money, str] | None = None
        for entry in self._prices.get(sku, ()):
            priority = groups.get(entry.group)
            if (
                priority is None
                or entry.currency != ctx.currency
                or not _in_range(day, entry.valid_from, entry.valid_to)
            ):
                continue
            price = Money(entry.amount, entry.currency)
            if (
                best is None
                or priority > best[0]
                or (
                    priority == best[0]
                    and (price < best[1] or (price == best[1] and entry.group < best[2]))
                )
            ):
                best = (priority, price, entry.group)
        if best is not None:
            return best[1], f"price group {best[2]}"
        if list_price is not None and list_price.currency == ctx.currency:
            return list_price, "list price"
        raise ValidationFailed.on(field, f"SKU {sku} has no price in {ctx.currency} for this sale")
