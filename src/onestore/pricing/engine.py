"""Price a basket: the one function every channel calls.

Order of application (``docs/pricing.md`` has worked examples):

1. Each line's unit price: the highest-priority applicable price group, lowest price among
   equals, else the variant's list price in the channel's currency; a manual override replaces
   it and takes the line out of automatic discounts.
2. Discounts whose scope (channel, store, customer group, loyalty tier, dates, weekdays, hours,
   coupon) does not fit the sale drop out, with the reason kept for the explanation.
3. Priorities from highest to lowest. At each one, :class:`~onestore.pricing.search.Level`
   finds the combination of simple, quantity and mix-and-match discounts that gives the lowest
   price. Units discounted at a priority are done — unless the setting "compound across
   priorities" is on and they carry only compounded discounts, in which case lower-priority
   compounded discounts stack on top.
4. Threshold discounts, last, on the amount after all of the above, over the whole lines their
   rules allow (never a line with an exclusive discount; an exclusive threshold only over
   undiscounted lines); the best single one for the customer, or the compounded stack.
5. Tax on each line's net amount, inclusive or exclusive per channel, rounded per line or per
   document.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from decimal import Decimal
from typing import Any

from onestore.kernel.money import Money, minor_units
from onestore.pricing.book import NOTHING, PriceBook
from onestore.pricing.explain import explain_line
from onestore.pricing.model import (
    AppliedDiscount,
    Concurrency,
    Discount,
    Kind,
    PricedBasket,
    PricedLine,
    PricingContext,
    PricingLine,
    SearchReport,
)
from onestore.pricing.pieces import Piece
from onestore.pricing.sale import Sale
from onestore.pricing.search import Budget, Level
from onestore.pricing.steps import rnd, rounder
from onestore.pricing.tax import compute_taxes
from onestore.pricing.thresholds import apply_thresholds

ZERO = Decimal(0)
SEARCH_STATES = 2_000
"""States the best-price search may visit per basket before it settles for what it has."""


def price(
    book: PriceBook,
    lines: Sequence[PricingLine],
    ctx: PricingContext,
    *,
    search_states: int = SEARCH_STATES,
    search: type[Level] = Level,
) -> PricedBasket:
    """Price ``lines`` in ``ctx`` against ``book``: deterministic, pure, explained.

    The lines are priced in a canonical order (by SKU, price, quantity, line id) and answered
    in the caller's, so the order a cashier scanned them in never changes the total — not even
    by a cent of rounding or a tie in the search. ``search`` is the best-price search to use;
    tests pass an exhaustive one to check it.
    """
    order = sorted(range(len(lines)), key=lambda i: _canonical(lines[i]))
    basket = _price(book, [lines[i] for i in order], ctx, search_states, search)
    back = {original: k for k, original in enumerate(order)}
    return replace(basket, lines=tuple(basket.lines[back[i]] for i in range(len(lines))))


def _canonical(line: PricingLine) -> tuple[object, ...]:
    return (line.sku, line.unit_price.amount, line.quantity, line.overridden, line.line_id)


def _price(
    book: PriceBook,
    lines: Sequence[PricingLine],
    ctx: PricingContext,
    search_states: int,
    search: type[Level],
) -> PricedBasket:
    quantum = rounder(minor_units(ctx.currency))
    sale = Sale(book, lines, ctx, quantum)
    for i, line in enumerate(lines):
        sale.add_line(NOTHING if line.overridden else book.about(line))
        amount = rnd(line.unit_price.amount * line.quantity, quantum)
        sale.grosses.append(amount)
        whole = line.quantity == line.quantity.to_integral_value()
        sale.pieces.append(Piece(i, line.quantity, amount, whole, closed=line.overridden))
    budget = Budget(limit=search_states)
    priorities = sorted({p for at in sale.at_priority for p in at}, reverse=True)
    for priority in priorities:
        _run_priority(sale, priority, budget, search)
    apply_thresholds(sale)
    return _assemble(
        sale,
        SearchReport(states=budget.states, exact=not budget.spent, exhaustive=not budget.ranked),
    )


def _run_priority(sale: Sale, priority: int, budget: Budget, search: type[Level]) -> None:
    at_level: list[int] = []
    pieces: list[Piece] = []
    singles: list[list[Discount]] = []
    offers: dict[str, Discount] = {}
    eligible: dict[str, list[list[int]]] = {}
    for k, p in enumerate(sale.pieces):
        if p.closed:
            continue
        mine = sale.at_priority[p.line].get(priority)
        if mine is None:
            continue
        if p.compounded_only:
            mine = [d for d in mine if d.concurrency is Concurrency.COMPOUNDED]
            if not mine:
                continue
        li = len(pieces)
        at_level.append(k)
        pieces.append(p)
        singles.append([d for d in mine if d.kind is Kind.SIMPLE])
        for d in mine:
            if not d.is_multi_unit:
                continue
            slots = eligible.setdefault(d.code, [[] for _ in d.filters])
            offers[d.code] = d
            for g in sale.about[p.line].groups[d.code]:
                slots[g].append(li)
    if not at_level:
        return
    level = search(pieces, singles, list(offers.values()), eligible, sale.quantum, budget)
    applications, rems = level.solve()
    replaced: dict[int, list[Piece]] = {li: [] for li in range(len(pieces))}
    across = sale.ctx.compound_across_priorities
    for app in applications:
        for (li, start, units), offs in zip(app.chunks, level.offs_of(app), strict=True):
            amount = level.chunk_amount(li, start, units)
            replaced[li].append(pieces[li].after(units, amount, offs, across_priorities=across))
    for li, rem in rems.items():
        if rem > 0:
            offs = level.leftover(li, rem)[1]
            if not offs and rem == pieces[li].quantity:
                replaced[li].append(pieces[li])  # untouched at this priority
                continue
            amount = level.remaining_amount(li, rem)
            replaced[li].append(pieces[li].after(rem, amount, offs, across_priorities=across))
    keep = set(at_level)
    rebuilt = [p for k, p in enumerate(sale.pieces) if k not in keep]
    for parts in replaced.values():
        rebuilt += parts
    rebuilt.sort(key=lambda p: p.line)
    sale.pieces = rebuilt


def _assemble(sale: Sale, report: SearchReport) -> PricedBasket:
    ctx, q, currency = sale.ctx, sale.quantum, sale.ctx.currency
    by_line: list[list[Piece]] = [[] for _ in sale.lines]
    for p in sale.pieces:
        by_line[p.line].append(p)
    nets: list[Money] = []
    applied_per_line: list[tuple[AppliedDiscount, ...]] = []
    for i, gross in enumerate(sale.grosses):
        totals: dict[str, list[Any]] = {}  # code -> [discount, units, amount off]
        for p in by_line[i]:
            for d, off in p.applied:
                found = totals.get(d.code)
                if found is None:
                    totals[d.code] = [d, p.quantity, off]
                else:
                    found[1] += p.quantity
                    found[2] += off
        applied = tuple(
            AppliedDiscount(
                d.code,
                d.name,
                d.kind,
                d.concurrency,
                d.priority,
                units,
                Money(amount.quantize(q), currency),
            )
            for d, units, amount in sorted(
                totals.values(), key=lambda t: (-t[0].priority, t[0].code)
            )
        )
        discount = sum([a.amount.amount for a in applied], ZERO)
        nets.append(Money((gross - discount).quantize(q), currency))
        applied_per_line.append(applied)
    taxes = compute_taxes(
        nets,
        [line.tax_group for line in sale.lines],
        sale.book.tax_rates,
        jurisdiction=ctx.jurisdiction,
        day=ctx.at.date(),
        prices_include_tax=ctx.prices_include_tax,
        rounding=ctx.tax_rounding,
    )
    priced = []
    for i, line in enumerate(sale.lines):
        gross, net = sale.grosses[i], nets[i]
        priced.append(
            PricedLine(
                line_id=line.line_id,
                sku=line.sku,
                quantity=line.quantity,
                unit_price=line.unit_price,
                price_source=line.price_source,
                gross=Money(gross, currency),
                discounts=applied_per_line[i],
                discount_total=Money(gross - net.amount, currency),
                net=net,
                tax_group=line.tax_group,
                tax_rate=taxes[i].rate,
                tax=taxes[i].tax,
                considered=explain_line(sale, i, by_line[i], applied_per_line[i]),
                overridden=line.overridden,
            )
        )
    zero = Money.zero(currency).amount
    subtotal = sum(sale.grosses, zero)
    net_total = sum([n.amount for n in nets], zero)
    tax = sum([t.tax.amount for t in taxes], zero)
    return PricedBasket(
        currency=currency,
        lines=tuple(priced),
        subtotal=Money(subtotal, currency),
        discount_total=Money(subtotal - net_total, currency),
        total=Money(net_total if ctx.prices_include_tax else net_total + tax, currency),
        tax_total=Money(tax, currency),
        prices_include_tax=ctx.prices_include_tax,
        version=sale.book.version,
        search=report,
    )
