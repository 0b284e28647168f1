"""The pricing domain: prices, discounts, the basket to price and the priced answer.

Pure data, no I/O and no clock reads: the service loads a :class:`PriceBook` (every price and
discount at one data version), resolves the basket's SKUs to :class:`PricingLine` s and hands
both to the engine (``engine.price``). Web cart, POS (online and on a store node, offline),
call center and marketplace feeds all go through that one function, so a promotion created
centrally behaves the same everywhere.

Numbers: a percent is given as a percent (``Decimal("12.5")`` is 12.5 %), amounts are in the
basket's currency, quantities are ``Decimal`` (whole units for most goods, fractions for goods
sold by weight).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from enum import StrEnum

from onestore.kernel.money import Money


class Concurrency(StrEnum):
    """How a discount combines with others at its priority (D365 Commerce's model)."""

    EXCLUSIVE = "exclusive"  # the only discount on its units: nothing else, ever
    BEST_PRICE = "best_price"  # competes: one of these, or the compounded stack, per unit
    COMPOUNDED = "compounded"  # stacks with other compounded discounts on the same units


class Kind(StrEnum):
    SIMPLE = "simple"
    QUANTITY = "quantity"
    MIX_MATCH = "mix_match"
    THRESHOLD = "threshold"


class Method(StrEnum):
    """What a discount does to the units (or the set, or the transaction) it applies to."""

    PERCENT = "percent"  # percent off
    AMOUNT = "amount"  # amount off (per unit for simple/quantity, per set for mix and match)
    PRICE = "price"  # a fixed unit price (simple, quantity tiers)
    DEAL_PRICE = "deal_price"  # the whole set costs this much (mix and match, buy N for X)
    LEAST_EXPENSIVE_FREE = "least_expensive_free"  # the N cheapest units of each set are free


class TaxRounding(StrEnum):
    LINE = "line"  # round each line's tax
    DOCUMENT = "document"  # round the sum per rate, then share it back over the lines


@dataclass(frozen=True, slots=True)
class ItemFilter:
    """Which goods a discount (or one mix-and-match group) is about.

    Empty include sets mean "every item"; an exclusion always wins over an inclusion. Categories
    match the item's category and every ancestor, so "tops" covers "t-shirts".
    """

    skus: frozenset[str] = frozenset()
    products: frozenset[str] = frozenset()
    categories: frozenset[str] = frozenset()
    exclude_skus: frozenset[str] = frozenset()
    exclude_products: frozenset[str] = frozenset()
    exclude_categories: frozenset[str] = frozenset()

    @property
    def everything(self) -> bool:
        return not (self.skus or self.products or self.categories)

    def matches(self, line: PricingLine) -> bool:
        if (
            line.sku in self.exclude_skus
            or line.product in self.exclude_products
            or not self.exclude_categories.isdisjoint(line.categories)
        ):
            return False
        if self.everything:
            return True
        return (
            line.sku in self.skus
            or line.product in self.products
            or not self.categories.isdisjoint(line.categories)
        )


@dataclass(frozen=True, slots=True)
class Scope:
    """Where and when a discount may apply. Empty sets mean "no restriction"."""

    channels: frozenset[str] = frozenset()
    stores: frozenset[str] = frozenset()
    affiliations: frozenset[str] = frozenset()
    loyalty_tiers: frozenset[str] = frozenset()
    valid_from: date | None = None
    valid_to: date | None = None  # inclusive
    weekdays: frozenset[int] = frozenset()  # 0 = Monday … 6 = Sunday
    start_time: time | None = None  # local time of the store / channel, inclusive
    end_time: time | None = None  # exclusive; a window may pass midnight (22:00–02:00)

    def refusal(self, ctx: PricingContext) -> str | None:
        """Why this scope rules the discount out for ``ctx``, or ``None`` when it applies."""
        if self.channels and ctx.channel not in self.channels:
            return f"not offered on channel {ctx.channel}"
        if self.stores and ctx.store not in self.stores:
            return "not offered at " + (f"store {ctx.store}" if ctx.store else "this channel")
        if self.affiliations and self.affiliations.isdisjoint(ctx.affiliations):
            return "for customer groups " + ", ".join(sorted(self.affiliations))
        if self.loyalty_tiers and ctx.loyalty_tier not in self.loyalty_tiers:
            return "for loyalty tiers " + ", ".join(sorted(self.loyalty_tiers))
        day = ctx.at.date()
        if self.valid_from is not None and day < self.valid_from:
            return f"starts {self.valid_from.isoformat()}"
        if self.valid_to is not None and day > self.valid_to:
            return f"ended {self.valid_to.isoformat()}"
        if self.weekdays and ctx.at.weekday() not in self.weekdays:
            return "not offered on " + ctx.at.strftime("%A")
        if self.start_time is not None and self.end_time is not None:
            now = ctx.at.time().replace(tzinfo=None)
            if self.start_time <= self.end_time:
                inside = self.start_time <= now < self.end_time
            else:
                inside = now >= self.start_time or now < self.end_time
            if not inside:
                return f"only {self.start_time:%H:%M}–{self.end_time:%H:%M}"
        return None


@dataclass(frozen=True, slots=True)
class QuantityTier:
    min_quantity: Decimal
    method: Method  # PERCENT, AMOUNT (per unit) or PRICE (unit price)
    value: Decimal


@dataclass(frozen=True, slots=True)
class MixMatchGroup:
    name: str
    items: ItemFilter
    quantity: int


@dataclass(frozen=True, slots=True)
class ThresholdTier:
    min_amount: Decimal
    method: Method  # PERCENT or AMOUNT off the qualifying amount
    value: Decimal


@dataclass(frozen=True, slots=True)
class Discount:
    """One discount as the merchandiser defined it; the kind says which rule fields matter.

    * simple: ``method`` + ``value`` on every qualifying unit;
    * quantity: ``tiers`` by total qualifying quantity (the reached tier's rule on all of them),
      or buy ``groups[0].quantity`` for ``value`` (held as a one-group deal);
    * mix_match: one application takes ``quantity`` units from each of ``groups``; ``method``
      and ``value`` say what the set gets (``free_count`` units for least-expensive-free),
      at most ``max_applications`` times per basket when set;
    * threshold: ``threshold_tiers`` on the qualifying amount after all other discounts.
    """

    code: str
    name: str
    kind: Kind
    concurrency: Concurrency
    priority: int = 0
    scope: Scope = Scope()
    items: ItemFilter = ItemFilter()
    method: Method = Method.PERCENT
    value: Decimal = Decimal(0)
    tiers: tuple[QuantityTier, ...] = ()
    groups: tuple[MixMatchGroup, ...] = ()
    free_count: int = 1
    max_applications: int | None = None
    threshold_tiers: tuple[ThresholdTier, ...] = ()
    coupon_required: bool = False
    currency: str | None = None  # amounts (amount off, prices) are in this currency

    @property
    def filters(self) -> tuple[ItemFilter, ...]:
        """The item rules that say which lines it is about: one per group for a set offer
        (mix and match, buy N for X), else its ``items``."""
        if self.kind is Kind.MIX_MATCH or (self.kind is Kind.QUANTITY and self.groups):
            return tuple(g.items for g in self.groups)
        return (self.items,)

    @property
    def is_multi_unit(self) -> bool:
        """Whether applying it needs a search over units (sets, tiers), not a per-unit rule."""
        return self.kind in (Kind.QUANTITY, Kind.MIX_MATCH)

    def describe(self) -> str:
        return f"{self.code} ({self.name})"


@dataclass(frozen=True, slots=True)
class PriceEntry:
    """A price for one SKU in one price group, in one currency, for a date range."""

    group: str
    sku: str
    amount: Decimal
    currency: str
    valid_from: date | None = None
    valid_to: date | None = None  # inclusive


@dataclass(frozen=True, slots=True)
class PriceGroup:
    """A set of prices linked to channels, stores, customer groups or loyalty tiers.

    An unlinked group applies nowhere. Among the groups that apply, the highest ``priority``
    decides; among equals the lowest price wins (so a customer never pays more because a
    second group also matched).
    """

    code: str
    name: str
    priority: int = 0
    channels: frozenset[str] = frozenset()
    stores: frozenset[str] = frozenset()
    affiliations: frozenset[str] = frozenset()
    loyalty_tiers: frozenset[str] = frozenset()

    def applies(self, ctx: PricingContext) -> bool:
        return (
            ctx.channel in self.channels
            or (ctx.store is not None and ctx.store in self.stores)
            or not self.affiliations.isdisjoint(ctx.affiliations)
            or (ctx.loyalty_tier is not None and ctx.loyalty_tier in self.loyalty_tiers)
        )


@dataclass(frozen=True, slots=True)
class TaxRate:
    """The rate of one tax group in one jurisdiction (``"FR"`` or ``"US-CA"``) over dates."""

    tax_group: str
    jurisdiction: str
    rate: Decimal  # percent
    valid_from: date | None = None
    valid_to: date | None = None


@dataclass(frozen=True, slots=True)
class PricingContext:
    """Everything about the sale except its lines: who, where, when, with which coupons."""

    channel: str
    currency: str
    at: datetime  # local wall-clock time at the store / channel
    store: str | None = None
    affiliations: frozenset[str] = frozenset()
    loyalty_tier: str | None = None
    coupon_discounts: frozenset[str] = frozenset()  # codes of discounts unlocked by coupons
    jurisdiction: str | None = None  # where tax is due (store, or ship-to); None = no tax
    prices_include_tax: bool = True
    tax_rounding: TaxRounding = TaxRounding.LINE
    compound_across_priorities: bool = False


@dataclass(frozen=True, slots=True)
class PricingLine:
    """One basket line with its catalog facts and the price it starts from."""

    line_id: str
    sku: str
    product: str
    categories: frozenset[str]  # the item's category and all its ancestors
    quantity: Decimal
    unit_price: Money
    price_source: str  # "list price" or "price group GOLD"
    tax_group: str | None = None
    overridden: bool = False  # a manual price: no automatic discounts


@dataclass(frozen=True, slots=True)
class AppliedDiscount:
    code: str
    name: str
    kind: Kind
    concurrency: Concurrency
    priority: int
    quantity: Decimal
    amount: Money

    def as_json(self) -> dict[str, object]:
        return {
            "code": self.code,
            "name": self.name,
            "kind": self.kind.value,
            "concurrency": self.concurrency.value,
            "priority": self.priority,
            "quantity": str(self.quantity),
            "amount": self.amount.as_json(),
        }


class Why(StrEnum):
    """Why a candidate discount gave a line nothing, for a program to act on (the ``reason``
    says it in words): a till shows every one; a shopper's cart shows what is within reach."""

    SCOPE = "scope"  # channel, store, customer group, loyalty tier, dates, hours, currency
    COUPON = "coupon"  # needs its coupon code (never shown to shoppers: it would tell it exists)
    SHORT = "short"  # the basket has too few units or too little spend for it
    PRIORITY = "priority"  # the units were discounted at a higher priority
    EXCLUSIVE = "exclusive"  # an exclusive discount holds the units (or the line)
    BEATEN = "beaten"  # another discount, or none, gave the lower price


@dataclass(frozen=True, slots=True)
class Candidate:
    """A discount that was about this line but gave it nothing, and why."""

    code: str
    reason: str
    why: Why = Why.BEATEN

    def as_json(self) -> dict[str, str]:
        return {"code": self.code, "reason": self.reason, "why": self.why.value}


@dataclass(frozen=True, slots=True)
class PricedLine:
    line_id: str
    sku: str
    quantity: Decimal
    unit_price: Money
    price_source: str
    gross: Money  # unit price × quantity, rounded
    discounts: tuple[AppliedDiscount, ...]
    discount_total: Money
    net: Money  # gross - discount_total: what the line costs, in the channel's tax mode
    tax_group: str | None
    tax_rate: Decimal | None
    tax: Money
    considered: tuple[Candidate, ...] = ()
    overridden: bool = False


@dataclass(frozen=True, slots=True)
class SearchReport:
    """How the best-price search went.

    ``exact``: every combination of offers was searched (the state budget was not hit).
    ``exhaustive``: besides, every set offer tried every choice of units; when false, a big
    offer chose its units by the documented rankings.
    """

    states: int = 0
    exact: bool = True
    exhaustive: bool = True


@dataclass(frozen=True, slots=True)
class PricedBasket:
    currency: str
    lines: tuple[PricedLine, ...]
    subtotal: Money  # sum of gross
    discount_total: Money
    total: Money  # what the customer pays
    tax_total: Money
    prices_include_tax: bool
    version: int
    search: SearchReport = field(default_factory=SearchReport)
