"""Ways one application of a set offer can take its units: counted, listed, or filled in order.

Pure combinatorics over pieces (indexes) and the units left on each; what a choice is worth is
the search's business (``search.Level``). Kept apart so the search reads as the search.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from decimal import Decimal
from functools import cache
from itertools import combinations_with_replacement, product
from math import comb

from onestore.pricing.model import MixMatchGroup

ZERO = Decimal(0)
Picks = dict[int, Decimal]  # piece -> units taken


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
) -> list[tuple[tuple[int, Decimal], ...]]:
    """Every way to fill the groups from the units left on the open pieces (small offers), each
    as (piece, units) pairs by piece, without repeats.

    Ordered as filling the groups one after another, each group's counts running from its
    last piece to its first (the order the best-price search breaks ties in)."""
    per_group = []
    for group, members in zip(groups, eligible, strict=True):
        pieces = [i for i in members if i in open_]
        fills = []
        for combo in combinations_with_replacement(pieces, group.quantity):
            counts: dict[int, int] = {}
            for i in combo:
                counts[i] = counts.get(i, 0) + 1
            if all(n <= rems[i] for i, n in counts.items()):
                fills.append(counts)
        fills.reverse()  # the first piece's count rising, as the search has always tied
        per_group.append(fills)
    out: list[tuple[tuple[int, Decimal], ...]] = []
    seen: set[tuple[tuple[int, Decimal], ...]] = set()
    for choice in product(*per_group):
        if len(choice) == 1:
            merged = choice[0]
        else:
            merged = {}
            for counts in choice:
                for i, n in counts.items():
                    merged[i] = merged.get(i, 0) + n
            if any(n > rems[i] for i, n in merged.items()):
                continue
        picks = tuple((i, _units(n)) for i, n in sorted(merged.items()))
        if picks not in seen:
            seen.add(picks)
            out.append(picks)
    return out


@cache
def _units(n: int) -> Decimal:
    return Decimal(n)


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
