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
    ItemFilter,
    Kind,
    PriceEntry,
    PriceGroup,
    PricingContext,
    PricingLine,
    TaxRate,
)


def _filters(discount: Discount) -> tuple[ItemFilter, ...]:
    if discount.kind is Kind.MIX_MATCH or (discount.kind is Kind.QUANTITY and discount.groups):
        return tuple(g.items for g in discount.groups)
    return (discount.items,)


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
    _about: dict[tuple[str, str, frozenset[str]], list[Discount]] = field(default_factory=dict)

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
        for items in _filters(discount):
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

    def discounts_about(self, line: PricingLine) -> list[Discount]:
        """Every discount whose item rules match ``line`` (scope not yet checked), by code.

        Remembered per (SKU, product, categories): the book never changes once built."""
        key = (line.sku, line.product, line.categories)
        known = self._about.get(key)
        if known is None:
            known = self._about[key] = self._discounts_about(line)
        return known

    def _discounts_about(self, line: PricingLine) -> list[Discount]:
        found: dict[str, Discount] = {}
        pools = [
            self._everything,
            self._by_sku.get(line.sku, ()),
            self._by_product.get(line.product, ()),
        ]
        pools += [self._by_category.get(c, ()) for c in line.categories]
        for pool in pools:
            for discount in pool:
                if discount.code not in found and any(f.matches(line) for f in _filters(discount)):
                    found[discount.code] = discount
        return [found[c] for c in sorted(found)]

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
