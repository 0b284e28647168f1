"""Threshold discounts: spend X, get Y off — evaluated last, on what the lines cost by then.

A threshold counts and discounts only the lines its item rules allow, never a line that carries
an exclusive discount; an exclusive threshold counts only lines with no discount at all. Of the
thresholds in scope the customer gets the best single one, or the stack of the compounded ones
(amount-off before percent-off, each on what the previous left, each tier decided on the amount
before any threshold), whichever saves more. The
discount is shared over the counted lines in proportion to their amounts, so the lines' shares
always add up to it exactly.
"""

from __future__ import annotations

from decimal import Decimal

from onestore.pricing.model import Concurrency, Discount, Kind, Method, ThresholdTier
from onestore.pricing.sale import Sale
from onestore.pricing.steps import allocate, whole_off

ZERO = Decimal(0)


def _thresholds(sale: Sale) -> list[Discount]:
    seen: dict[str, Discount] = {}
    for about in sale.about:
        for d in about:
            if d.kind is Kind.THRESHOLD and sale.refusal(d) is None:
                seen[d.code] = d
    return [seen[c] for c in sorted(seen)]


def threshold_pieces(sale: Sale, d: Discount) -> list[int]:
    """Pieces a threshold discount counts and discounts: whole lines, never a line with an
    exclusive discount on any of its units; for an exclusive threshold, only lines with no
    discount at all."""
    closed: set[int] = set()
    touched: set[int] = set()
    for p in sale.pieces:
        if p.exclusive:
            closed.add(p.line)
        if p.applied:
            touched.add(p.line)
    shut = closed | touched if d.concurrency is Concurrency.EXCLUSIVE else closed
    return [
        k
        for k, p in enumerate(sale.pieces)
        if p.line not in shut
        and not sale.lines[p.line].overridden
        and sale.matches(d.items, p.line)
    ]


def apply_thresholds(sale: Sale) -> None:
    """The best of: each threshold alone, or all compounded ones stacked — every threshold's
    tier decided on the amount before any threshold, so adding one never costs the customer."""
    candidates = _thresholds(sale)
    if not candidates:
        return
    options: list[list[Discount]] = [[d] for d in candidates]
    stack = [d for d in candidates if d.concurrency is Concurrency.COMPOUNDED]
    if len(stack) > 1:
        options.append(sorted(stack, key=lambda d: _threshold_step_order(sale, d)))
    best: tuple[Decimal, list[tuple[Discount, list[int], list[Decimal]]]] = (ZERO, [])
    for option in options:
        total, plan = _threshold_plan(sale, option)
        if total > best[0]:
            best = (total, plan)
    for d, members, offs in best[1]:
        for k, off in zip(members, offs, strict=True):
            if off > 0:
                piece = sale.pieces[k]
                piece.amount -= off
                piece.applied.append((d, off))


def _counted(sale: Sale, d: Discount) -> tuple[list[int], Decimal]:
    """``d``'s pieces and what they cost before any threshold, worked out once per sale (the
    pieces do not change until the chosen thresholds are applied)."""
    if d.code not in sale.thresholds:
        members = threshold_pieces(sale, d)
        sale.thresholds[d.code] = (members, sum((sale.pieces[k].amount for k in members), ZERO))
    return sale.thresholds[d.code]


def threshold_base(sale: Sale, d: Discount) -> Decimal:
    """The amount ``d``'s tier is decided on (the explanation quotes this same number)."""
    return _counted(sale, d)[1]


def reached_tier(sale: Sale, d: Discount) -> ThresholdTier | None:
    """The tier ``d`` reaches on its lines' amount before any threshold."""
    base = threshold_base(sale, d)
    reached = [t for t in d.threshold_tiers if t.min_amount <= base]
    return reached[-1] if reached and base > 0 else None


def _threshold_step_order(sale: Sale, d: Discount) -> tuple[int, str]:
    tier = reached_tier(sale, d)
    return (0 if tier is not None and tier.method is Method.AMOUNT else 1, d.code)


def _threshold_plan(
    sale: Sale, option: list[Discount]
) -> tuple[Decimal, list[tuple[Discount, list[int], list[Decimal]]]]:
    running = {k: p.amount for k, p in enumerate(sale.pieces)}
    plan = []
    total = ZERO
    for d in option:
        tier = reached_tier(sale, d)
        if tier is None:
            continue
        members = _counted(sale, d)[0]
        weights = [running[k] for k in members]
        off = whole_off(tier.method, tier.value, sum(weights, ZERO), sale.quantum)
        if off <= 0:
            continue
        offs = allocate(off, weights, sale.quantum)
        for k, part in zip(members, offs, strict=True):
            running[k] -= part
        plan.append((d, members, offs))
        total += off
    return total, plan
