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

from onestore.pricing.model import Concurrency, Discount, Method, ThresholdTier
from onestore.pricing.sale import Sale
from onestore.pricing.steps import allocate, whole_off

ZERO = Decimal(0)


def _thresholds(sale: Sale) -> list[Discount]:
    seen: dict[str, Discount] = {}
    for about in {id(a): a for a in sale.about}.values():
        for d in about.thresholds:
            if sale.refusal(d) is None:
                seen[d.code] = d
    return [seen[c] for c in sorted(seen)]


def threshold_pieces(sale: Sale, d: Discount) -> list[int]:
    """Pieces a threshold discount counts and discounts: whole lines, never a line with an
    exclusive discount on any of its units; for an exclusive threshold, only lines with no
    discount at all. In piece order (pieces are kept in line order)."""
    if sale.shut is None:
        closed: set[int] = set()
        touched: set[int] = set()
        for k, p in enumerate(sale.pieces):
            sale.pieces_of.setdefault(p.line, []).append(k)
            if p.exclusive:
                closed.add(p.line)
            if p.applied:
                touched.add(p.line)
        sale.shut = (closed, closed | touched)
    shut = sale.shut[1] if d.concurrency is Concurrency.EXCLUSIVE else sale.shut[0]
    pieces_of, lines = sale.pieces_of, sale.lines
    return [
        k
        for line in sale.lines_about(d)  # ascending
        if line not in shut and not lines[line].overridden
        for k in pieces_of.get(line, ())  # a line of no units has no pieces left
    ]


def apply_thresholds(sale: Sale) -> None:
    """The best of: each threshold alone, or all compounded ones stacked — every threshold's
    tier decided on the amount before any threshold, so adding one never costs the customer."""
    candidates = _thresholds(sale)
    if not candidates:
        return
    best: tuple[Decimal, list[Discount]] = (ZERO, [])
    for d in candidates:  # alone, a threshold's saving is its tier's on its base
        tier = reached_tier(sale, d)
        if tier is not None:
            off = whole_off(tier.method, tier.value, threshold_base(sale, d), sale.quantum)
            if off > best[0]:
                best = (off, [d])
    stack = [d for d in candidates if d.concurrency is Concurrency.COMPOUNDED]
    plan = None
    if len(stack) > 1:
        stack.sort(key=lambda d: _threshold_step_order(sale, d))
        total, plan = _threshold_plan(sale, stack)
        if total <= best[0]:
            plan = None
    if plan is None:
        plan = _threshold_plan(sale, best[1])[1]
    for d, members, offs in plan:
        for k, off in zip(members, offs, strict=True):
            if off > 0:
                piece = sale.pieces[k]
                piece.amount -= off
                piece.applied.append((d, off))


def _counted(sale: Sale, d: Discount) -> tuple[list[int], Decimal, ThresholdTier | None]:
    """``d``'s pieces, what they cost before any threshold and the tier that reaches, worked
    out once per sale (the pieces do not change until the chosen thresholds are applied)."""
    found = sale.thresholds.get(d.code)
    if found is None:
        members = threshold_pieces(sale, d)
        base = sum((sale.pieces[k].amount for k in members), ZERO)
        reached = [t for t in d.threshold_tiers if t.min_amount <= base]
        tier = reached[-1] if reached and base > 0 else None
        found = sale.thresholds[d.code] = (members, base, tier)
    return found


def threshold_base(sale: Sale, d: Discount) -> Decimal:
    """The amount ``d``'s tier is decided on (the explanation quotes this same number)."""
    return _counted(sale, d)[1]


def reached_tier(sale: Sale, d: Discount) -> ThresholdTier | None:
    """The tier ``d`` reaches on its lines' amount before any threshold."""
    return _counted(sale, d)[2]


def _threshold_step_order(sale: Sale, d: Discount) -> tuple[int, str]:
    tier = reached_tier(sale, d)
    return (0 if tier is not None and tier.method is Method.AMOUNT else 1, d.code)


def _threshold_plan(
    sale: Sale, option: list[Discount]
) -> tuple[Decimal, list[tuple[Discount, list[int], list[Decimal]]]]:
    running: dict[int, Decimal] = {}
    plan = []
    total = ZERO
    for d in option:
        members, _, tier = _counted(sale, d)
        if tier is None:
            continue
        weights = [running.get(k, sale.pieces[k].amount) for k in members]
        off = whole_off(tier.method, tier.value, sum(weights, ZERO), sale.quantum)
        if off <= 0:
            continue
        offs = allocate(off, weights, sale.quantum)
        for k, w, part in zip(members, weights, offs, strict=True):
            running[k] = w - part
        plan.append((d, members, offs))
        total += off
    return total, plan
