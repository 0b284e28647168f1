"""Why a discount that was about a line gave it nothing: the words a cashier reads.

Every discount whose item rules match a line is either applied or listed here with one reason,
checked in this order: out of scope (channel, store, customer group, dates, hours, coupon),
already discounted at a higher priority, not enough qualifying quantity or spend, or beaten —
the best-price search found a lower price without it.
"""

from __future__ import annotations

from decimal import Decimal

from onestore.pricing.model import AppliedDiscount, Candidate, Concurrency, Discount, Kind
from onestore.pricing.pieces import Piece
from onestore.pricing.sale import Sale
from onestore.pricing.thresholds import reached_tier, threshold_base

ZERO = Decimal(0)


def explain_line(
    sale: Sale, i: int, pieces: list[Piece], applied: tuple[AppliedDiscount, ...]
) -> tuple[Candidate, ...]:
    got = {a.code for a in applied}
    out = []
    for d in sale.about[i]:
        if d.code in got:
            continue
        reason = sale.refusal(d) or _why_not(sale, d, pieces, applied)
        out.append(Candidate(d.code, reason))
    return tuple(out)


def _codes(applied: list[AppliedDiscount]) -> str:
    return ", ".join(a.code for a in applied)


def _why_not(
    sale: Sale, d: Discount, pieces: list[Piece], applied: tuple[AppliedDiscount, ...]
) -> str:
    if d.kind is Kind.THRESHOLD:
        return _why_not_threshold(sale, d, pieces, applied)
    short = _short_of_quantity(sale, d)
    if short is not None:
        return short
    higher = [a for a in applied if a.priority > d.priority and a.kind is not Kind.THRESHOLD]
    stacks = (
        sale.ctx.compound_across_priorities
        and d.concurrency is Concurrency.COMPOUNDED
        and all(a.concurrency is Concurrency.COMPOUNDED for a in higher)
    )
    if higher and not stacks:
        return f"already discounted at priority {higher[0].priority} ({_codes(higher)})"
    exclusive = [a for a in applied if a.concurrency is Concurrency.EXCLUSIVE]
    if exclusive:
        return f"exclusive discount {_codes(exclusive)} applies to these units"
    beaten = [a for a in applied if a.kind is not Kind.THRESHOLD]
    if beaten:
        return f"a lower price came from {_codes(beaten)}"
    return "gave no lower price for this basket"


def _short_of_quantity(sale: Sale, d: Discount) -> str | None:
    """For quantity and mix-and-match offers: does the basket even hold enough units?
    Worked out once per discount and basket."""
    if d.code not in sale.shortfalls:
        sale.shortfalls[d.code] = _short(sale, d)
    return sale.shortfalls[d.code]


def _short(sale: Sale, d: Discount) -> str | None:
    live = [k for k, codes in enumerate(sale.live_codes) if d.code in codes]
    if d.kind is Kind.QUANTITY and d.tiers:
        have = sum((sale.lines[k].quantity for k in live), ZERO)
        need = d.tiers[0].min_quantity
        if have < need:
            return f"needs a quantity of at least {need}; the basket has {have}"
        return None
    for group in d.groups:
        have = sum(
            (
                sale.lines[k].quantity
                for k in live
                if sale.matches(group.items, k)
                and sale.lines[k].quantity == sale.lines[k].quantity.to_integral_value()
            ),
            ZERO,
        )
        if have < group.quantity:
            label = "" if d.kind is Kind.QUANTITY else f" of group {group.name}"
            return f"needs {group.quantity} units{label}; the basket has {have}"
    return None


def _why_not_threshold(
    sale: Sale, d: Discount, pieces: list[Piece], applied: tuple[AppliedDiscount, ...]
) -> str:
    if any(p.exclusive for p in pieces):
        return "this line carries an exclusive discount"
    if d.concurrency is Concurrency.EXCLUSIVE and any(
        a.kind is not Kind.THRESHOLD for a in applied
    ):
        return "exclusive: counts only lines without other discounts"
    if reached_tier(sale, d) is None and d.threshold_tiers:
        need = d.threshold_tiers[0].min_amount
        base = threshold_base(sale, d)
        return f"needs a qualifying amount of at least {need}; the basket has {base}"
    others = [a for a in applied if a.kind is Kind.THRESHOLD]
    if others:
        return f"threshold {_codes(others)} saves more"
    return "another threshold discount saves more"
