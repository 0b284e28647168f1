"""Why a discount that was about a line gave it nothing: the words a cashier reads.

Every discount whose item rules match a line is either applied or listed here with one reason,
checked in this order: out of scope (channel, store, customer group, dates, hours, coupon),
already discounted at a higher priority, not enough qualifying quantity or spend, or beaten —
the best-price search found a lower price without it.
"""

from __future__ import annotations

from decimal import Decimal

from onestore.pricing.model import (
    AppliedDiscount,
    Candidate,
    Concurrency,
    Discount,
    Kind,
    Why,
)
from onestore.pricing.pieces import Piece
from onestore.pricing.sale import NEEDS_COUPON, Sale
from onestore.pricing.thresholds import reached_tier, threshold_base

ZERO = Decimal(0)


def explain_line(
    sale: Sale, i: int, pieces: list[Piece], applied: tuple[AppliedDiscount, ...]
) -> tuple[Candidate, ...]:
    """The candidates of line ``i``, each discount it matched but did not get, with its reason.

    A line discount's reason depends only on the discount, the sale and the line discounts
    (and exclusive ones) the line got; a threshold's only on the thresholds the line got,
    whether it got anything else and whether a piece is exclusive. So a reason is worked out
    once per sale for all lines that agree on those, which most lines of a basket do."""
    exclusive = any(p.exclusive for p in pieces)
    got = {a.code for a in applied}
    line_key: tuple[object, ...] = ("line",)
    threshold_key: tuple[object, ...] = ("threshold", exclusive, False)
    if applied:
        line_key += tuple(
            a.code
            for a in applied
            if a.kind is not Kind.THRESHOLD or a.concurrency is Concurrency.EXCLUSIVE
        )
        others = any(a.kind is not Kind.THRESHOLD for a in applied)
        thresholds = [a.code for a in applied if a.kind is Kind.THRESHOLD]
        threshold_key = ("threshold", exclusive, others, *thresholds)
    for_lines = sale.explained.setdefault(line_key, {})
    for_thresholds = sale.explained.setdefault(threshold_key, {})
    out_of_scope = sale.explained.setdefault(("scope",), {})  # the same on every line
    out = []
    threshold = Kind.THRESHOLD
    for d in sale.about[i].discounts:
        code = d.code
        if code in got:
            continue
        found = out_of_scope.get(code)
        if found is None:
            known = for_thresholds if d.kind is threshold else for_lines
            found = known.get(code)
            if found is None:
                refused = sale.refusal(d)
                if refused is not None:
                    why = Why.COUPON if refused == NEEDS_COUPON else Why.SCOPE
                    found = out_of_scope[code] = Candidate(code, refused, why)
                else:
                    if d.kind is threshold:
                        verdict = _threshold_verdict(sale, d, threshold_key, exclusive, applied)
                    else:
                        verdict = _line_verdict(sale, d, line_key, applied)
                    found = known[code] = Candidate(code, verdict[1], verdict[0])
        out.append(found)
    return tuple(out)


def _codes(applied: list[AppliedDiscount]) -> str:
    return ", ".join(a.code for a in applied)


Verdict = tuple[Why, str]


def _line_verdict(
    sale: Sale, d: Discount, line_key: tuple[object, ...], applied: tuple[AppliedDiscount, ...]
) -> Verdict:
    """Why line discount ``d`` gave nothing: its shortfall, else what the line got decides,
    seen from ``d``'s priority and concurrency (so the words are shared by discounts alike)."""
    short = _short_of_quantity(sale, d)
    if short is not None:
        return Why.SHORT, short
    key = (line_key, d.priority, d.concurrency is Concurrency.COMPOUNDED)
    found = sale.verdicts.get(key)
    if found is None:
        found = sale.verdicts[key] = _why_not(sale, d, applied)
    return found


def _threshold_verdict(
    sale: Sale,
    d: Discount,
    threshold_key: tuple[object, ...],
    exclusive: bool,
    applied: tuple[AppliedDiscount, ...],
) -> Verdict:
    """Why threshold ``d`` gave nothing: the line's exclusivity, ``d``'s own shortfall, or the
    thresholds the line got."""
    d_exclusive = d.concurrency is Concurrency.EXCLUSIVE
    shut = exclusive or (d_exclusive and threshold_key[2])
    if not shut and reached_tier(sale, d) is None and d.threshold_tiers:
        return _why_not_threshold(sale, d, exclusive, applied)
    key = (threshold_key, d_exclusive)
    found = sale.verdicts.get(key)
    if found is None:
        found = sale.verdicts[key] = _why_not_threshold(sale, d, exclusive, applied)
    return found


def _why_not(sale: Sale, d: Discount, applied: tuple[AppliedDiscount, ...]) -> Verdict:
    """A line discount in scope and not short of units: what the line got beat it."""
    higher = [a for a in applied if a.priority > d.priority and a.kind is not Kind.THRESHOLD]
    stacks = (
        sale.ctx.compound_across_priorities
        and d.concurrency is Concurrency.COMPOUNDED
        and all(a.concurrency is Concurrency.COMPOUNDED for a in higher)
    )
    if higher and not stacks:
        return (
            Why.PRIORITY,
            f"already discounted at priority {higher[0].priority} ({_codes(higher)})",
        )
    sole = [a for a in applied if a.concurrency is Concurrency.EXCLUSIVE]
    if sole:
        return Why.EXCLUSIVE, f"exclusive discount {_codes(sole)} applies to these units"
    beaten = [a for a in applied if a.kind is not Kind.THRESHOLD]
    if beaten:
        return Why.BEATEN, f"a lower price came from {_codes(beaten)}"
    return Why.BEATEN, "gave no lower price for this basket"


def _short_of_quantity(sale: Sale, d: Discount) -> str | None:
    """For quantity and mix-and-match offers: does the basket even hold enough units?
    Worked out once per discount and basket."""
    if d.code not in sale.shortfalls:
        sale.shortfalls[d.code] = _short(sale, d)
    return sale.shortfalls[d.code]


def _short(sale: Sale, d: Discount) -> str | None:
    """Asked only of a discount in scope, so it is live on every line it is about."""
    live = sale.lines_about(d)
    if d.kind is Kind.QUANTITY and d.tiers:
        have = sum((sale.lines[k].quantity for k in live), ZERO)
        need = d.tiers[0].min_quantity
        if have < need:
            return f"needs a quantity of at least {need}; the basket has {have}"
        return None
    for g, group in enumerate(d.groups):
        have = sum(
            (
                sale.lines[k].quantity
                for k in live
                if sale.in_group(d, g, k)
                and sale.lines[k].quantity == sale.lines[k].quantity.to_integral_value()
            ),
            ZERO,
        )
        if have < group.quantity:
            label = "" if d.kind is Kind.QUANTITY else f" of group {group.name}"
            units = "unit" if group.quantity == 1 else "units"
            return f"needs {group.quantity} {units}{label}; the basket has {have}"
    return None


def _why_not_threshold(
    sale: Sale, d: Discount, exclusive: bool, applied: tuple[AppliedDiscount, ...]
) -> tuple[Why, str]:
    if exclusive:
        return Why.EXCLUSIVE, "this line carries an exclusive discount"
    if d.concurrency is Concurrency.EXCLUSIVE and any(
        a.kind is not Kind.THRESHOLD for a in applied
    ):
        return Why.EXCLUSIVE, "exclusive: counts only lines without other discounts"
    if reached_tier(sale, d) is None and d.threshold_tiers:
        need = d.threshold_tiers[0].min_amount
        base = threshold_base(sale, d)
        return Why.SHORT, f"needs a qualifying amount of at least {need}; the basket has {base}"
    others = [a for a in applied if a.kind is Kind.THRESHOLD]
    if others:
        return Why.BEATEN, f"threshold {_codes(others)} saves more"
    return Why.BEATEN, "another threshold discount saves more"
