"""Ways one application of a set offer can take its units: counted, listed, or filled in order.

Pure combinatorics over pieces (indexes) and the units left on each; what a choice is worth is
the search's business (``search.Level``). Kept apart so the search reads as the search.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from decimal import Decimal
from functools import cache
from math import comb

from onestore.pricing.model import MixMatchGroup

ZERO = Decimal(0)
Picks = dict[int, Decimal]  # piece -> units taken


@cache
def compositions(total: int, parts: int) -> tuple[tuple[int, ...], ...]:
    """Every way to write ``total`` as an ordered sum of ``parts`` non-negative integers."""
    if parts == 0:
        return ((),) if total == 0 else ()
    if parts == 1:
        return ((total,),)
    return tuple(
        (first, *rest)
        for first in range(total + 1)
        for rest in compositions(total - first, parts - 1)
    )


def choice_count(
    groups: Sequence[MixMatchGroup], eligible: Sequence[Sequence[int]], open_: Collection[int]
) -> int:
    """How many ways one application could choose its units (an upper bound): per group, the
    multisets of its size over the group's open pieces."""
    total = 1
    for group, members in zip(groups, eligible, strict=True):
        pieces = sum(1 for i in members if i in open_)
        total *= comb(pieces + group.quantity - 1, group.quantity)
    return total


def every_pick(
    groups: Sequence[MixMatchGroup],
    eligible: Sequence[Sequence[int]],
    open_: Collection[int],
    rems: Sequence[Decimal],
) -> list[Picks]:
    """Every way to fill the groups from the units left on the open pieces (small offers)."""
    out: list[Picks] = []

    def fill(g: int, taken: Picks) -> None:
        if g == len(groups):
            out.append(taken)
            return
        pieces = [i for i in eligible[g] if i in open_ and rems[i] > taken.get(i, ZERO)]
        for counts in compositions(groups[g].quantity, len(pieces)):
            more = dict(taken)
            for i, count in zip(pieces, counts, strict=True):
                if count:
                    more[i] = now = more.get(i, ZERO) + count
                    if now > rems[i]:
                        break
            else:
                fill(g + 1, more)

    fill(0, {})
    return out


def take(
    ranking: Sequence[int], rems: Sequence[Decimal], need: Decimal, taken: Picks
) -> Picks | None:
    """Add ``need`` units to ``taken`` from the pieces in ``ranking`` order, or ``None`` if the
    pieces do not hold enough."""
    for i in ranking:
        step = min(need, rems[i] - taken.get(i, ZERO))
        if step > 0:
            taken[i] = taken.get(i, ZERO) + step
            need -= step
        if need == 0:
            return taken
    return None
