"""The arithmetic of one discount step, and of a compounded stack of them.

Every step works on an *amount* (what some units cost right now) and returns the discount it
gives, rounded half-up to the currency's minor unit at that step, never more than the amount.
A compounded stack runs its steps in one documented order — fixed prices first, then amounts
off, then percents off — each on what the previous steps left, so "10 off then 20 %" on 100
is 100 → 90 → 72 whatever order the merchandiser created them in (amount-off before
percent-off is the customer-friendlier order and the one D365 documents).

Splitting units off a piece uses :func:`share`: the cost of the first ``m`` of ``q`` units is
``round(amount × m / q)``, so any run of units costs the difference of two such prefixes. The
parts of a piece therefore always add up to the piece exactly, and the best-price search and the
final bill use the very same numbers.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from onestore.pricing.model import Method

HUNDRED = Decimal(100)
PHASES: dict[Method, int] = {
    Method.PRICE: 0,
    Method.DEAL_PRICE: 0,
    Method.AMOUNT: 1,
    Method.PERCENT: 2,
    Method.LEAST_EXPENSIVE_FREE: 2,
}
"""Order of steps inside a compounded stack: set prices, then amounts off, then percents off."""


def rounder(minor_units: int) -> Decimal:
    """The quantum of a currency: 1 (JPY), 0.01 (EUR), 0.001 (KWD)."""
    return Decimal(1).scaleb(-minor_units)


def rnd(value: Decimal, quantum: Decimal) -> Decimal:
    return value.quantize(quantum, rounding=ROUND_HALF_UP)


def share(amount: Decimal, quantity: Decimal, units: Decimal, quantum: Decimal) -> Decimal:
    """What the first ``units`` of a piece of ``quantity`` units costing ``amount`` cost."""
    if units >= quantity:
        return amount
    if units <= 0:
        return amount - amount
    return rnd(amount * units / quantity, quantum)


def unit_step(
    method: Method, value: Decimal, amount: Decimal, units: Decimal, quantum: Decimal
) -> Decimal:
    """Discount of a per-unit rule (simple or quantity tier) on ``units`` costing ``amount``."""
    if amount <= 0:
        return amount - amount
    if method is Method.PERCENT:
        off = rnd(amount * value / HUNDRED, quantum)
    elif method is Method.AMOUNT:
        off = rnd(value * units, quantum)
    elif method is Method.PRICE:
        off = amount - rnd(value * units, quantum)
    else:  # pragma: no cover - definitions refuse set methods on unit rules
        raise ValueError(f"{method} is not a per-unit method")
    return max(min(off, amount), amount - amount)


def whole_off(method: Method, value: Decimal, amount: Decimal, quantum: Decimal) -> Decimal:
    """Discount of a rule on a whole amount (a mix-and-match set, a threshold's lines): a deal
    price, an amount or a percent off it, never more than it."""
    if amount <= 0:
        return amount - amount
    if method is Method.DEAL_PRICE:
        return max(amount - value, amount - amount)
    if method is Method.AMOUNT:
        return min(value, amount)
    if method is Method.PERCENT:
        return rnd(amount * value / HUNDRED, quantum)
    raise ValueError(f"{method} is not a whole-amount method")  # pragma: no cover


def allocate(total: Decimal, weights: list[Decimal], quantum: Decimal) -> list[Decimal]:
    """Split a (rounded, non-negative) discount over parts by weight; the parts sum exactly.

    Largest remainder, ties to the earliest part, like :meth:`Money.allocate`; kept here on bare
    decimals because the search calls it thousands of times per basket.
    """
    weight = sum(weights)
    if total <= 0 or weight <= 0:
        return [total - total for _ in weights]
    units = int(total / quantum)
    exact = [units * w / weight for w in weights]
    floors = [int(x) for x in exact]
    left = units - sum(floors)
    order = sorted(range(len(weights)), key=lambda i: (floors[i] - exact[i], i))
    for i in order[:left]:
        floors[i] += 1
    return [quantum * f for f in floors]
