"""The best-price search at one priority: which offers take which units, exactly.

At one priority every open unit ends with exactly one of: nothing, one best-price or exclusive
discount, or the stack of compounded discounts that match it. Per-unit rules (simple
discounts) are independent per piece, so each piece's best one is a small max. Offers that
need several units — mix and match, buy N for X, quantity tiers — interact: the same shirt may
complete a "3 for 2", a "shirt + tie" deal or lift a tiered discount to its next tier. For
those the search is a dynamic programme over *what is still unclaimed*: from a state (units left
per piece, applications used per offer) it tries every offer's next application and keeps the
best total, remembering each state's answer so orders of application that meet are not searched
twice. Offers that share no pieces are solved separately.

What the search does not branch on is which units one application takes: each group of a set
takes its units in order of what they add to that offer net of what they would get otherwise
(their best per-unit rule), the most valuable first. That rule is what makes
"least expensive free" pair expensive items together and deal prices take the dearest items; it
is documented, with worked examples, in ``docs/pricing.md``. If a basket's state space exceeds
the budget the search finishes greedily and says so (``SearchReport.exact``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from itertools import combinations
from typing import Any

from onestore.pricing.model import Concurrency, Discount, Kind, Method, QuantityTier
from onestore.pricing.pieces import Piece
from onestore.pricing.steps import HUNDRED, PHASES, allocate, share, unit_step, whole_off
from onestore.pricing.unit_choices import choice_count, every_pick, take

ZERO = Decimal(0)
Offs = list[tuple[Discount, Decimal]]
TierPart = tuple[Offs, Decimal, Decimal]  # a tier's discounts on some units, their sum, the cost


@dataclass(slots=True)
class Application:
    """One use of a multi-unit offer: ``chunks`` are (piece, first unit, units) with offs."""

    discount: Discount
    chunks: list[tuple[int, Decimal, Decimal]]
    offs: list[Offs]
    value: Decimal
    consumed: Decimal = ZERO  # what the units it took cost before it


@dataclass(slots=True)
class Budget:
    states: int = 0
    limit: int = 20_000
    ranked: bool = False  # some application chose its units by ranking, not by trying all

    @property
    def spent(self) -> bool:
        return self.states >= self.limit


class Level:
    """The pieces open at one priority, the discounts of that priority, and the search."""

    ENUMERATION_LIMIT = 64
    SMALL = 4
    DEEP = 200
    BEAM = 2
    """A component of at most ``SMALL`` line parts tries every candidate application at every
    step; a bigger one follows the ``BEAM`` best candidates per step (the search is then still
    exact over which offers apply and how often, and says it was not exhaustive)."""
    """An offer with at most this many ways to choose one application's units tries them all;
    a bigger one tries the ranked choices (and the report says the search was not exhaustive)."""

    def __init__(
        self,
        pieces: Sequence[Piece],
        singles: Sequence[Sequence[Discount]],
        offers: Sequence[Discount],
        eligible: dict[str, list[list[int]]],
        quantum: Decimal,
        budget: Budget,
    ) -> None:
        self.pieces = pieces
        self.singles = singles  # per piece: simple discounts of this priority open to it
        self.offers = list(offers)
        self.eligible = eligible  # offer code -> per group, the piece indexes it may take
        self.q = quantum
        self.budget = budget
        self._leftover: dict[tuple[int, Decimal], tuple[Decimal, Offs]] = {}
        self._sets: dict[tuple[str, tuple[tuple[Any, ...], ...]], Application] = {}
        self._next: dict[tuple[str, tuple[Decimal, ...]], list[Application]] = {}
        self._members: dict[str, list[int]] = {}
        self._tiers: dict[tuple[str, int, Decimal, QuantityTier], TierPart] = {}
        self._unit: list[Decimal | None] = []
        for p in pieces:  # a piece whose units all cost the same to the cent splits exactly
            unit = p.amount / p.quantity if p.quantity else None
            self._unit.append(unit if unit is not None and unit == unit.quantize(quantum) else None)
        self._whole = [p.whole for p in pieces]
        self._stacks = [
            any(s.concurrency is Concurrency.COMPOUNDED for s in self.singles[i])
            for i in range(len(pieces))
        ]

    # -- per-unit rules -----------------------------------------------------------------------
    def remaining_amount(self, i: int, rem: Decimal) -> Decimal:
        p = self.pieces[i]
        return p.amount - share(p.amount, p.quantity, p.quantity - rem, self.q)

    def stack(
        self,
        i: int,
        amount: Decimal,
        units: Decimal,
        extra: Discount | None,
        rule: tuple[Method, Decimal] | None,
    ) -> Offs:
        """The compounded simple discounts of piece ``i`` (plus ``extra``'s per-unit ``rule``)."""
        steps: list[tuple[int, str, Discount, Method, Decimal]] = [
            (PHASES[d.method], d.code, d, d.method, d.value)
            for d in self.singles[i]
            if d.concurrency is Concurrency.COMPOUNDED
        ]
        if extra is not None and rule is not None:
            steps.append((PHASES[rule[0]], extra.code, extra, rule[0], rule[1]))
        steps.sort(key=lambda s: (s[0], s[1]))
        offs: Offs = []
        running = amount
        for _, _, discount, method, value in steps:
            off = unit_step(method, value, running, units, self.q)
            running -= off
            offs.append((discount, off))
        return offs

    def leftover(self, i: int, rem: Decimal) -> tuple[Decimal, Offs]:
        """Best per-unit outcome for the ``rem`` unclaimed units of piece ``i``."""
        key = (i, rem)
        found = self._leftover.get(key)
        if found is not None:
            return found
        best: tuple[Decimal, Offs] = (ZERO, [])
        if rem > 0 and self.singles[i]:
            amount = self.remaining_amount(i, rem)
            for d in self.singles[i]:
                if d.concurrency is Concurrency.COMPOUNDED:
                    continue
                off = unit_step(d.method, d.value, amount, rem, self.q)
                if off > best[0]:
                    best = (off, [(d, off)])
            stacked = self.stack(i, amount, rem, None, None)
            total = sum((off for _, off in stacked), ZERO)
            if total > best[0]:
                best = (total, stacked)
        self._leftover[key] = best
        return best

    # -- multi-unit offers --------------------------------------------------------------------
    def _set_applications(self, d: Discount, rems: list[Decimal]) -> list[Application]:
        """Candidate next applications of a set offer, one per way of choosing its units.

        An offer with few choices tries them all. A bigger one ranks units per group by a few
        orders that each win in some basket: what the unit adds to this offer net of what it
        would get otherwise; dearest first; least given up first; cheapest first (the same
        saving from goods worth less); and, for least-expensive-free on one group, the best
        "most expensive free unit" pivot. The search branches on each distinct choice.
        """
        groups, eligible = d.groups, self.eligible[d.code]
        whole = self._whole
        open_ = {i for group in eligible for i in group if whole[i] and rems[i] > 0}
        found: dict[tuple[tuple[int, Decimal], ...], Application] = {}

        def add(picks: dict[int, Decimal] | None) -> None:
            if picks is not None:
                items = tuple(sorted(picks.items()))
                if items not in found:
                    found[items] = self._from_picks(d, rems, items)

        if choice_count(groups, eligible, open_) <= self.ENUMERATION_LIMIT:
            return [
                app
                for picks in every_pick(groups, eligible, open_, rems)
                if (app := self._from_picks(d, rems, picks)).value > 0
            ]
        self.budget.ranked = True
        facts: dict[int, tuple[Decimal, Decimal]] = {}  # piece -> (unit amount, given up per unit)
        for i in sorted(open_):
            unit = self.remaining_amount(i, rems[i]) / rems[i]
            facts[i] = (unit, self.leftover(i, rems[i])[0] / rems[i])
        weight = ZERO if d.method is Method.AMOUNT else Decimal(1)
        if d.method is Method.PERCENT:
            weight = d.value / HUNDRED
        orders = [
            lambda i: (-(weight * facts[i][0] - facts[i][1]), -facts[i][0], i),
            lambda i: (-facts[i][0], facts[i][1], i),
            lambda i: (facts[i][1], -facts[i][0], i),
            lambda i: (facts[i][0], facts[i][1], i),
        ]
        for order in orders:
            add(self._pick(d, rems, facts, sorted(facts, key=order)))
        if d.method is Method.LEAST_EXPENSIVE_FREE and len(d.groups) == 1:
            for picks in self._pivot_picks(d, rems, facts):
                add(picks)
        return [app for app in found.values() if app.value > 0]

    def _pick(
        self,
        d: Discount,
        rems: list[Decimal],
        facts: dict[int, tuple[Decimal, Decimal]],
        ranking: list[int],
    ) -> dict[int, Decimal] | None:
        """Fill the groups from ``ranking``; the group with the fewest units to choose from
        chooses first, so a broad group does not take the only unit a narrow one could use."""
        scarcity = sorted(
            range(len(d.groups)),
            key=lambda g: (sum(rems[i] for i in self.eligible[d.code][g] if i in facts), g),
        )
        taken: dict[int, Decimal] | None = {}
        for g in scarcity:
            allowed = set(self.eligible[d.code][g])
            mine = [i for i in ranking if i in allowed]
            taken = take(mine, rems, Decimal(d.groups[g].quantity), taken or {})
            if taken is None:
                return None
        return taken

    def _pivot_picks(
        self, d: Discount, rems: list[Decimal], facts: dict[int, tuple[Decimal, Decimal]]
    ) -> list[dict[int, Decimal]]:
        """Least-expensive-free: for each price level, the best free units at or below it and
        the paid units at or above it that give up the least."""
        size = Decimal(d.groups[0].quantity)
        free_n = Decimal(d.free_count)
        result = []
        for pivot in {facts[i][0] for i in facts}:
            below = sorted(
                (i for i in facts if facts[i][0] <= pivot),
                key=lambda i: (-(facts[i][0] - facts[i][1]), i),
            )
            free = take(below, rems, free_n, {})
            if free is None:
                continue
            top = max(facts[i][0] for i in free)
            above = sorted(
                (i for i in facts if facts[i][0] >= top),
                key=lambda i: (facts[i][1], -facts[i][0], i),
            )
            both = take(above, rems, size - free_n, dict(free))
            if both is not None:
                result.append(both)
        return result

    def _from_picks(
        self, d: Discount, rems: list[Decimal], picks: tuple[tuple[int, Decimal], ...]
    ) -> Application:
        """The application taking ``picks`` (piece, units; by piece) from what is left."""
        pieces = self.pieces
        chunks = [(i, pieces[i].quantity - rems[i], units) for i, units in picks]
        # Units of a piece whose units all cost the same are worth the same whichever of them
        # a set takes: then the value depends on the picks alone, not on the first unit.
        unit = self._unit
        exact = all(unit[i] is not None for i, _ in picks)
        key = (d.code, picks if exact else tuple(chunks))
        found = self._sets.get(key)
        if found is None:
            found = self._quick_set(d, chunks) or self._evaluate_set(d, chunks)
            self._sets[key] = found
        elif found.chunks != chunks:
            found = Application(d, chunks, found.offs, found.value, found.consumed)
        return found

    def _quick_set(
        self, d: Discount, chunks: list[tuple[int, Decimal, Decimal]]
    ) -> Application | None:
        """The saving of a set with nothing stacked on it, without sharing it out yet (the
        search needs the number; the shares are worked out only for the plan it keeps)."""
        if d.concurrency is Concurrency.COMPOUNDED and any(self._stacks[i] for i, _, _ in chunks):
            return None
        amounts = [self.chunk_amount(i, s, u) for i, s, u in chunks]
        total = sum(amounts, ZERO)
        if d.method is Method.LEAST_EXPENSIVE_FREE:
            value = sum(self._set_offs(d, chunks, amounts), ZERO)
        else:
            value = whole_off(d.method, d.value, total, self.q)
        return Application(d, chunks, [], value, total)

    def offs_of(self, app: Application) -> list[Offs]:
        """Each chunk's discounts: worked out now if the search only needed the total."""
        if app.offs or not app.chunks:
            return app.offs
        return self._evaluate_set(app.discount, app.chunks).offs

    def chunk_amount(self, i: int, start: Decimal, units: Decimal) -> Decimal:
        """What units ``start`` … ``start + units`` of piece ``i`` cost (see ``steps.share``)."""
        unit = self._unit[i]
        if unit is not None:
            return unit * units
        p = self.pieces[i]
        return share(p.amount, p.quantity, start + units, self.q) - share(
            p.amount, p.quantity, start, self.q
        )

    def _evaluate_set(self, d: Discount, chunks: list[tuple[int, Decimal, Decimal]]) -> Application:
        running = [self.chunk_amount(i, s, u) for i, s, u in chunks]
        start_total = sum(running, ZERO)
        offs: list[Offs] = [[] for _ in chunks]
        compounded = d.concurrency is Concurrency.COMPOUNDED
        singles = [
            sorted(
                (
                    s
                    for s in self.singles[i]
                    if compounded and s.concurrency is Concurrency.COMPOUNDED
                ),
                key=lambda s: s.code,
            )
            for i, _, _ in chunks
        ]
        for phase in (0, 1, 2):
            for c, (_, _, units) in enumerate(chunks):
                for s in singles[c]:
                    if PHASES[s.method] == phase:
                        off = unit_step(s.method, s.value, running[c], units, self.q)
                        running[c] -= off
                        offs[c].append((s, off))
            if PHASES[d.method] != phase:
                continue
            parts = self._set_offs(d, chunks, running)
            for c, off in enumerate(parts):
                running[c] -= off
                offs[c].append((d, off))
        return Application(d, chunks, offs, start_total - sum(running, ZERO), start_total)

    def _set_offs(
        self, d: Discount, chunks: list[tuple[int, Decimal, Decimal]], running: list[Decimal]
    ) -> list[Decimal]:
        total = sum(running, ZERO)
        if d.method is Method.LEAST_EXPENSIVE_FREE:
            units = sorted((running[c] / u, c) for c, (_, _, u) in enumerate(chunks) if u > 0)
            free: dict[int, Decimal] = {}
            left = Decimal(d.free_count)
            for _, c in units:
                if left <= 0:
                    break
                take = min(left, chunks[c][2] - free.get(c, ZERO))
                free[c] = free.get(c, ZERO) + take
                left -= take
            return [
                share(running[c], chunks[c][2], free.get(c, ZERO), self.q)
                for c in range(len(chunks))
            ]
        return allocate(whole_off(d.method, d.value, total, self.q), running, self.q)

    def _tier_applications(self, d: Discount, rems: list[Decimal]) -> list[Application]:
        """Candidate uses of a tiered quantity discount: which lines join it.

        With few lines every subset is tried. Otherwise, for each tier, lines are ranked by what
        that tier gives them net of their best per-unit rule, and every prefix of the ranking is
        a candidate; its quantity decides the tier it
        actually reaches (tiers need not get better as they go up, so stopping short of the next
        tier can be the better price).
        """
        pool = sorted({i for group in self.eligible[d.code] for i in group if rems[i] > 0})
        found: dict[frozenset[int], Application] = {}
        if 2 ** len(pool) - 1 <= self.ENUMERATION_LIMIT:
            for size in range(1, len(pool) + 1):
                for subset in combinations(pool, size):
                    total = sum((rems[i] for i in subset), ZERO)
                    tiers = [t for t in d.tiers if t.min_quantity <= total]
                    if tiers:
                        found[frozenset(subset)] = self._tier_application(
                            d, rems, list(subset), tiers[-1]
                        )
            return [app for app in found.values() if app.value > 0]
        self.budget.ranked = True
        for tier in d.tiers:
            gains = []
            for i in pool:
                value = self._tier_part(d, i, rems[i], tier)[1]
                gains.append((value - self.leftover(i, rems[i])[0], i))
            gains.sort(key=lambda g: (-g[0], g[1]))
            quantity = ZERO
            for k, (_, i) in enumerate(gains):
                quantity += rems[i]
                chosen = frozenset(i for _, i in gains[: k + 1])
                if quantity < d.tiers[0].min_quantity or chosen in found:
                    continue
                reached = [t for t in d.tiers if t.min_quantity <= quantity][-1]
                found[chosen] = self._tier_application(d, rems, sorted(chosen), reached)
        return [app for app in found.values() if app.value > 0]

    def _tier_application(
        self, d: Discount, rems: list[Decimal], chosen: list[int], tier: QuantityTier
    ) -> Application:
        chunks, all_offs, value, consumed = [], [], ZERO, ZERO
        for i in chosen:
            offs, saving, amount = self._tier_part(d, i, rems[i], tier)
            chunks.append((i, self.pieces[i].quantity - rems[i], rems[i]))
            all_offs.append(offs)
            value += saving
            consumed += amount
        return Application(d, chunks, all_offs, value, consumed)

    def _tier_part(self, d: Discount, i: int, rem: Decimal, tier: QuantityTier) -> TierPart:
        """What ``tier`` of ``d`` does to the last ``rem`` units of piece ``i``: the discounts,
        their sum and what the units cost before. Remembered: every subset of lines that
        reaches the tier asks it again."""
        key = (d.code, i, rem, tier)
        found = self._tiers.get(key)
        if found is None:
            amount = self.remaining_amount(i, rem)
            if d.concurrency is Concurrency.COMPOUNDED:
                offs = self.stack(i, amount, rem, d, (tier.method, tier.value))
            else:
                offs = [(d, unit_step(tier.method, tier.value, amount, rem, self.q))]
            found = self._tiers[key] = (offs, sum((o for _, o in offs), ZERO), amount)
        return found

    # -- the search ---------------------------------------------------------------------------
    def solve(self) -> tuple[list[Application], dict[int, Decimal]]:
        """The best applications and, per piece, the units left to per-unit rules."""
        rems = [p.quantity for p in self.pieces]
        applications: list[Application] = []
        for component, offers in self._components():
            apps = self._solve_component(component, offers, rems)
            for app in apps:
                for i, _, units in app.chunks:
                    rems[i] -= units
            applications += apps
        return applications, dict(enumerate(rems))

    def _components(self) -> list[tuple[list[int], list[Discount]]]:
        parent = list(range(len(self.pieces)))

        def find(x: int) -> int:
            while parent[x] != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x

        for d in self.offers:
            members = [i for group in self.eligible[d.code] for i in group]
            for i in members[1:]:
                parent[find(i)] = find(members[0])
        groups: dict[int, list[Discount]] = {}
        pieces: dict[int, list[int]] = {}
        for d in self.offers:
            members = [i for group in self.eligible[d.code] for i in group]
            if members:
                groups.setdefault(find(members[0]), []).append(d)
        for i in range(len(self.pieces)):
            pieces.setdefault(find(i), []).append(i)
        return [(pieces[root], offers) for root, offers in groups.items()]

    def _solve_component(
        self, members: list[int], offers: list[Discount], rems: list[Decimal]
    ) -> list[Application]:
        """Best plan for one component, deciding the offers one after another (how many times,
        on which units), so each combination of applications is reached once. Among equal
        savings, the plan that uses the least value of goods wins, so lower priorities have
        the most left to work with."""
        Score = tuple[Decimal, Decimal]  # (saving, -value of the units the sets used)
        Key = tuple[tuple[Decimal, ...], int, int]
        memo: dict[Key, tuple[Score, list[Application]]] = {}
        if sum((rems[i] for i in members), ZERO) > self.DEEP:
            return self._greedy(members, offers, rems)
        base = list(rems)
        position = {i: n for n, i in enumerate(members)}
        beam = self.BEAM if len(members) > self.SMALL else len(offers) * 10**6

        def best(state: tuple[Decimal, ...], o: int, used: int) -> tuple[Score, list[Application]]:
            key = (state, o, used)
            found = memo.get(key)
            if found is not None:
                return found
            if o == len(offers):
                stop = ZERO
                for i, rem in zip(members, state, strict=True):
                    stop += self.leftover(i, rem)[0]
                answer: tuple[Score, list[Application]] = ((stop, ZERO), [])
                memo[key] = answer
                return answer
            current = base[:]
            for i, rem in zip(members, state, strict=True):
                current[i] = rem
            self.budget.states += 1
            answer = best(state, o + 1, 0)  # no (more) applications of this offer
            candidates = self._next_applications(offers[o], used, current)
            width = 1 if self.budget.spent else beam
            if len(candidates) > width:
                self.budget.ranked = True
                candidates = candidates[:width]
            for app in candidates:
                after = list(state)
                for i, _, units in app.chunks:
                    after[position[i]] -= units
                (value, spent), plan = best(tuple(after), o, used + 1)
                score = (app.value + value, spent - app.consumed)
                if score > answer[0]:
                    answer = (score, [app, *plan])
            memo[key] = answer
            return answer

        return best(tuple(rems[i] for i in members), 0, 0)[1]

    def _greedy(
        self, members: list[int], offers: list[Discount], rems: list[Decimal]
    ) -> list[Application]:
        """A component too big to search (more units than ``DEEP``: 2,500 of one item in a
        deal): each offer in turn takes its best next application while that saves anything.
        The report then says the search was not exact."""
        self.budget.states = max(self.budget.states, self.budget.limit)
        current = list(rems)
        plan: list[Application] = []
        for d in offers:
            used = 0
            while candidates := self._next_applications(d, used, current):
                app = candidates[0]
                for i, _, units in app.chunks:
                    current[i] -= units
                plan.append(app)
                used += 1
        return plan

    def _next_applications(self, d: Discount, used: int, rems: list[Decimal]) -> list[Application]:
        """Candidate next applications of ``d``, best first (the beam and the greedy fallback
        keep the head of this list). They depend only on what is left of ``d``'s own pieces,
        and the search reaches the same leftovers from many states, so they are remembered."""
        if d.kind is Kind.QUANTITY and d.tiers:
            if used:
                return []
        elif d.max_applications is not None and used >= d.max_applications:
            return []
        members = self._members.get(d.code)
        if members is None:
            members = self._members[d.code] = sorted({i for g in self.eligible[d.code] for i in g})
        key = (d.code, tuple([rems[i] for i in members]))
        found = self._next.get(key)
        if found is None:
            if d.kind is Kind.QUANTITY and d.tiers:
                found = self._tier_applications(d, rems)
            else:
                found = self._set_applications(d, rems)
            found.sort(key=lambda app: (-app.value, app.consumed))
            self._next[key] = found
        return found
