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

from onestore.kernel.money import Money, minor_units
from onestore.pricing.book import PriceBook
from onestore.pricing.explain import explain_line
from onestore.pricing.model import (
    AppliedDiscount,
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
    sale = Sale(book, lines, ctx, quantum, {}, [], [], [])
    for i, line in enumerate(lines):
        about = [] if line.overridden else book.discounts_about(line)
        sale.about.append(about)
        live = [d for d in about if d.kind is not Kind.THRESHOLD and sale.refusal(d) is None]
        sale.live.append(live)
        sale.live_codes.append({d.code for d in live})
        amount = rnd(line.unit_price.amount * line.quantity, quantum)
        whole = line.quantity == line.quantity.to_integral_value()
        sale.pieces.append(Piece(i, line.quantity, amount, whole, closed=line.overridden))
    budget = Budget(limit=search_states)
    priorities = sorted({d.priority for ds in sale.live for d in ds}, reverse=True)
    for priority in priorities:
        _run_priority(sale, priority, budget, search)
    apply_thresholds(sale)
    return _assemble(
        sale,
        SearchReport(states=budget.states, exact=not budget.spent, exhaustive=not budget.ranked),
    )


def _run_priority(sale: Sale, priority: int, budget: Budget, search: type[Level]) -> None:
    at_level = [
        k
        for k, p in enumerate(sale.pieces)
        if any(d.priority == priority and p.open_to(d) for d in sale.live[p.line])
    ]
    if not at_level:
        return
    pieces = [sale.pieces[k] for k in at_level]
    singles: list[list[Discount]] = []
    offers: dict[str, Discount] = {}
    eligible: dict[str, list[list[int]]] = {}
    for li, p in enumerate(pieces):
        mine = [d for d in sale.live[p.line] if d.priority == priority and p.open_to(d)]
        singles.append([d for d in mine if d.kind is Kind.SIMPLE])
        for d in mine:
            if not d.is_multi_unit:
                continue
            filters = [g.items for g in d.groups] if d.groups else [d.items]
            slots = eligible.setdefault(d.code, [[] for _ in filters])
            offers[d.code] = d
            for g, items in enumerate(filters):
                if sale.matches(items, p.line):
                    slots[g].append(li)
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
            amount = level.remaining_amount(li, rem)
            replaced[li].append(pieces[li].after(rem, amount, offs, across_priorities=across))
    keep = set(at_level)
    rebuilt = [p for k, p in enumerate(sale.pieces) if k not in keep]
    for parts in replaced.values():
        rebuilt += parts
    rebuilt.sort(key=lambda p: p.line)
    sale.pieces = rebuilt


def _assemble(sale: Sale, report: SearchReport) -> PricedBasket:
    ctx, q = sale.ctx, sale.quantum
    by_line: list[list[Piece]] = [[] for _ in sale.lines]
    for p in sale.pieces:
        by_line[p.line].append(p)
    grosses, nets, applied_per_line = [], [], []
    for i, line in enumerate(sale.lines):
        gross = rnd(line.unit_price.amount * line.quantity, q)
        units: dict[str, Decimal] = {}
        amounts: dict[str, Decimal] = {}
        found: dict[str, Discount] = {}
        for p in by_line[i]:
            for d, off in p.applied:
                found[d.code] = d
                units[d.code] = units.get(d.code, ZERO) + p.quantity
                amounts[d.code] = amounts.get(d.code, ZERO) + off
        applied = tuple(
            AppliedDiscount(
                d.code,
                d.name,
                d.kind,
                d.concurrency,
                d.priority,
                units[c],
                Money(amounts[c].quantize(q), ctx.currency),
            )
            for c, d in sorted(found.items(), key=lambda kv: (-kv[1].priority, kv[0]))
        )
        discount = sum((a.amount.amount for a in applied), ZERO)
        grosses.append(gross)
        nets.append(Money((gross - discount).quantize(q), ctx.currency))
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
        line_gross = Money(grosses[i], ctx.currency)
        priced.append(
            PricedLine(
                line_id=line.line_id,
                sku=line.sku,
                quantity=line.quantity,
                unit_price=line.unit_price,
                price_source=line.price_source,
                gross=line_gross,
                discounts=applied_per_line[i],
                discount_total=line_gross - nets[i],
                net=nets[i],
                tax_group=line.tax_group,
                tax_rate=taxes[i].rate,
                tax=taxes[i].tax,
                considered=explain_line(sale, i, by_line[i], applied_per_line[i]),
                overridden=line.overridden,
            )
        )
    zero = Money.zero(ctx.currency)
    subtotal = sum((p.gross for p in priced), zero)
    net = sum((p.net for p in priced), zero)
    tax = sum((p.tax for p in priced), zero)
    return PricedBasket(
        currency=ctx.currency,
        lines=tuple(priced),
        subtotal=subtotal,
        discount_total=subtotal - net,
        total=net if ctx.prices_include_tax else net + tax,
        tax_total=tax,
        prices_include_tax=ctx.prices_include_tax,
        version=sale.book.version,
        search=report,
    )
