"""Buffer stock rules: which policy covers a balance, and how many units it holds back.

Pure functions over plain values (no database, no clock), so every worked example can be pinned
in a unit test. ``inventory.buffers`` loads the policies and the facts, calls these, and writes.

**Precedence.** For a balance (a variant at a location) every policy whose scope covers it is a
candidate, and the most specific one wins. Specificity is compared product side first, then
location side, then by policy id:

1. product side: a policy for the SKU itself, then one for the product's category, then one for
   a parent of that category (the nearer the ancestor, the stronger), then one for all products;
2. location side: a policy for the location itself, then one for a channel the location serves,
   then one for every location;
3. tie-break: the smallest policy id (ULIDs sort by creation, so the oldest policy wins).

The product side decides first because a merchandiser who writes a rule for one SKU (or one
category) has said something about that item's demand; a location-wide rule is a blanket.

**Methods.** ``fixed``: ``units``. ``percent``: ``ceil(on_hand × percent / 100)``, with negative
on hand counted as 0. ``days_of_cover``: ``ceil(velocity × days × risk factor)`` where velocity is
the units sold (sales minus returns, never below 0) at that balance over the last
``velocity_days`` days, divided by ``velocity_days``. Risk class A is fast-moving or critical
stock that must not run out, so it is protected more (factor 1.5); B is the norm (1.0); C is slow
or easily substituted (0.5). All arithmetic is ``Decimal`` and exact: the ceiling is taken on the
exact quotient, and only the explanation rounds (to two places) for reading.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any

from onestore.catalog.model import ancestors
from onestore.inventory.model import MAX_QUANTITY
from onestore.kernel.errors import FieldError

MAX_UNITS = MAX_QUANTITY
"""Largest buffer a policy may set (the inventory's ``MAX_QUANTITY``); a bigger result is capped."""
MAX_DAYS = Decimal("9999.99")
"""Days of cover are stored as NUMERIC(6, 2)."""
MAX_VELOCITY_DAYS = 3650
"""Ten years of sales history is already more than "recent"; bounds the date arithmetic."""
MAX_NAME = 100

RISK_FACTORS: Mapping[str, Decimal] = {
    "A": Decimal("1.5"),
    "B": Decimal("1.0"),
    "C": Decimal("0.5"),
}
"""A = fast or critical, protect more; B = normal; C = slow or substitutable, protect less."""

_CENT = Decimal("0.01")
_HUNDRED = Decimal(100)


class Method(StrEnum):
    FIXED = "fixed"
    PERCENT = "percent"
    DAYS_OF_COVER = "days_of_cover"


INPUTS: Mapping[Method, tuple[str, ...]] = {
    Method.FIXED: ("units",),
    Method.PERCENT: ("percent",),
    Method.DAYS_OF_COVER: ("days", "risk_class", "velocity_days"),
}
"""The inputs each method uses; a policy stores exactly these and no others."""
ALL_INPUTS = ("units", "percent", "days", "risk_class", "velocity_days")


@dataclass(frozen=True, slots=True)
class PolicyDraft:
    """A policy as a person states it: scope by codes, the method and its inputs."""

    name: str
    method: str
    sku: str | None = None
    category: str | None = None
    location: str | None = None
    channel: str | None = None
    units: int | None = None
    percent: Decimal | None = None
    days: Decimal | None = None
    risk_class: str | None = None
    velocity_days: int | None = None


@dataclass(frozen=True, slots=True)
class Policy:
    """A stored policy with its scope as ids (for matching) and as codes (for explaining)."""

    id: str
    name: str
    method: Method
    variant_id: str | None = None
    category_id: str | None = None
    location_id: str | None = None
    channel_id: str | None = None
    units: int | None = None
    percent: Decimal | None = None
    days: Decimal | None = None
    risk_class: str | None = None
    velocity_days: int | None = None
    sku: str | None = None
    category: str | None = None
    location: str | None = None
    channel: str | None = None

    @property
    def scope(self) -> str:
        """Where and what it covers, location side first: "channel WEB, category SHIRTS"."""
        if self.location_id is not None:
            where = f"location {self.location}"
        elif self.channel_id is not None:
            where = f"channel {self.channel}"
        else:
            where = "all locations"
        if self.variant_id is not None:
            what = f"SKU {self.sku}"
        elif self.category_id is not None:
            what = f"category {self.category}"
        else:
            what = "all products"
        return f"{where}, {what}"


@dataclass(frozen=True, slots=True)
class Derivation:
    """The buffer a policy sets on one balance, the sentence that says why, and the numbers."""

    buffer: int
    explanation: str
    inputs: dict[str, Any]


# -- validation -----------------------------------------------------------------------------------
def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _decimal_errors(
    field: str, value: object, low: Decimal, high: Decimal, *, low_open: bool
) -> list[FieldError]:
    if isinstance(value, int) and not isinstance(value, bool):
        value = Decimal(value)
    if not isinstance(value, Decimal) or not value.is_finite():
        return [FieldError(field, "must be a decimal number")]
    if value < low or (low_open and value == low) or value > high:
        bound = f"greater than {low}" if low_open else f"at least {low}"
        return [FieldError(field, f"must be {bound} and at most {high}")]
    if value != value.quantize(_CENT):
        return [FieldError(field, "must have at most 2 decimal places")]
    return []


def _input_errors(draft: PolicyDraft, method: Method) -> list[FieldError]:
    errors: list[FieldError] = []
    for name in ALL_INPUTS:
        given = getattr(draft, name) is not None
        if name in INPUTS[method] and not given:
            errors.append(FieldError(name, f"required for method {method.value}"))
        elif name not in INPUTS[method] and given:
            errors.append(FieldError(name, f"not used by method {method.value}"))
    units = draft.units
    if (
        method is Method.FIXED
        and units is not None
        and not (_is_int(units) and 0 <= units <= MAX_UNITS)
    ):
        errors.append(FieldError("units", f"must be a whole number from 0 to {MAX_UNITS}"))
    if draft.percent is not None and method is Method.PERCENT:
        errors += _decimal_errors("percent", draft.percent, Decimal(0), _HUNDRED, low_open=False)
    if method is Method.DAYS_OF_COVER:
        if draft.days is not None:
            errors += _decimal_errors("days", draft.days, Decimal(0), MAX_DAYS, low_open=True)
        if draft.risk_class is not None and draft.risk_class not in RISK_FACTORS:
            errors.append(FieldError("risk_class", "must be A, B or C"))
        vd = draft.velocity_days
        if vd is not None and (not _is_int(vd) or not 1 <= vd <= MAX_VELOCITY_DAYS):
            errors.append(
                FieldError("velocity_days", f"must be a whole number from 1 to {MAX_VELOCITY_DAYS}")
            )
    return errors


def check_draft(draft: PolicyDraft) -> list[FieldError]:
    """Every reason ``draft`` cannot be stored, by field (the table's CHECKs, plus the column
    sizes, plus: a policy carries only the inputs its method uses, so none can mislead)."""
    errors: list[FieldError] = []
    if not isinstance(draft.name, str) or not draft.name.strip():
        errors.append(FieldError("name", "must not be blank"))
    elif len(draft.name) > MAX_NAME:
        errors.append(FieldError("name", f"must be at most {MAX_NAME} characters"))
    if draft.sku is not None and draft.category is not None:
        errors.append(FieldError("category", "give a SKU or a category, not both"))
    if draft.location is not None and draft.channel is not None:
        errors.append(FieldError("channel", "give a location or a channel, not both"))
    try:
        method = Method(draft.method)
    except ValueError:
        return [*errors, FieldError("method", "must be fixed, percent or days_of_cover")]
    return errors + _input_errors(draft, method)


# -- matching -------------------------------------------------------------------------------------
ALL_PRODUCTS_RANK = 1_000_000
"""Product-side rank of an all-products policy: weaker than any category, however far up."""


@dataclass(frozen=True, slots=True)
class Match:
    policy: Policy
    product_rank: int  # 0 SKU, 1 + distance for a category, ALL_PRODUCTS_RANK for everything
    location_rank: int  # 0 location, 1 channel, 2 every location

    @property
    def order(self) -> tuple[int, int, str]:
        return (self.product_rank, self.location_rank, self.policy.id)


class PolicyIndex:
    """Policies indexed by what they cover, so matching a balance looks only at candidates
    (its SKU, each category up its chain, all products) instead of every policy."""

    def __init__(
        self,
        policies: Iterable[Policy],
        parents: Mapping[str, str | None],
        serving: Mapping[str, frozenset[str]],
    ) -> None:
        self._parents = parents
        self._serving = serving
        self._by_variant: dict[str, list[Policy]] = {}
        self._by_category: dict[str, list[Policy]] = {}
        self._general: list[Policy] = []
        self._chains: dict[str | None, tuple[str, ...]] = {}
        for policy in policies:
            if policy.variant_id is not None:
                self._by_variant.setdefault(policy.variant_id, []).append(policy)
            elif policy.category_id is not None:
                self._by_category.setdefault(policy.category_id, []).append(policy)
            else:
                self._general.append(policy)

    def __bool__(self) -> bool:
        return bool(self._by_variant or self._by_category or self._general)

    def chain(self, category_id: str | None) -> tuple[str, ...]:
        """The category and its ancestors, nearest first (a loop in bad data stops the walk)."""
        found = self._chains.get(category_id)
        if found is None:
            walk = ancestors(category_id, self._parents) if category_id is not None else []
            found = self._chains[category_id] = tuple(walk)
        return found

    def _location_rank(self, policy: Policy, location_id: str) -> int | None:
        if policy.location_id is not None:
            return 0 if policy.location_id == location_id else None
        if policy.channel_id is not None:
            return 1 if location_id in self._serving.get(policy.channel_id, ()) else None
        return 2

    def winner(self, variant_id: str, category_id: str | None, location_id: str) -> Match | None:
        """The most specific policy covering this balance (see the module docstring)."""
        candidates: list[tuple[int, Policy]] = [
            (0, p) for p in self._by_variant.get(variant_id, ())
        ]
        for distance, ancestor in enumerate(self.chain(category_id)):
            candidates += [(1 + distance, p) for p in self._by_category.get(ancestor, ())]
        candidates += [(ALL_PRODUCTS_RANK, p) for p in self._general]
        best: Match | None = None
        for product_rank, policy in candidates:
            location_rank = self._location_rank(policy, location_id)
            if location_rank is None:
                continue
            match = Match(policy, product_rank, location_rank)
            if best is None or match.order < best.order:
                best = match
        return best


# -- the methods ----------------------------------------------------------------------------------
def ceil_div(numerator: Decimal, denominator: Decimal) -> int:
    """``ceil(numerator / denominator)`` exactly (``divmod`` of Decimals is exact), for
    non-negative inputs; dividing first and rounding up later could turn 1/3 × 3 into 2."""
    quotient, remainder = divmod(numerator, denominator)
    return int(quotient) + (1 if remainder > 0 else 0)


def show(value: Decimal) -> str:
    """A Decimal for people: two places at most, no trailing zeros ("9.6", "10", "3.33")."""
    text = format(value.quantize(_CENT, rounding=ROUND_HALF_UP), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _capped(buffer: int) -> tuple[int, str]:
    return (MAX_UNITS, f"{MAX_UNITS} (capped)") if buffer > MAX_UNITS else (buffer, str(buffer))


def derive(policy: Policy, *, on_hand: int, sold: int) -> Derivation:
    """The buffer ``policy`` sets on a balance with ``on_hand`` units that sold ``sold`` units
    net of returns in the policy's window (``sold`` is ignored unless days of cover)."""
    head = f"{policy.method.value} policy '{policy.name}' ({policy.scope})"
    inputs: dict[str, Any] = {
        "source": "policy",
        "policy": policy.name,
        "method": policy.method.value,
        "scope": policy.scope,
    }
    if policy.method is Method.FIXED:
        assert policy.units is not None
        buffer, shown = _capped(policy.units)
        inputs["units"] = policy.units
        return Derivation(buffer, f"{head}: {shown} units", inputs)
    if policy.method is Method.PERCENT:
        assert policy.percent is not None
        counted = max(on_hand, 0)
        product = counted * policy.percent
        buffer, shown = _capped(ceil_div(product, _HUNDRED))
        inputs |= {"on_hand": on_hand, "percent": str(policy.percent)}
        text = (
            f"{head}: {show(policy.percent)}% of {counted} on hand = "
            f"{show(product / _HUNDRED)} → {shown}"
        )
        return Derivation(buffer, text, inputs)
    assert policy.days is not None and policy.velocity_days is not None
    assert policy.risk_class is not None
    net = max(sold, 0)
    factor = RISK_FACTORS[policy.risk_class]
    window = Decimal(policy.velocity_days)
    numerator = net * policy.days * factor
    buffer, shown = _capped(ceil_div(numerator, window))
    velocity = Decimal(net) / window
    inputs |= {
        "sold": net,
        "velocity_days": policy.velocity_days,
        "velocity": show(velocity),
        "days": str(policy.days),
        "risk_class": policy.risk_class,
        "risk_factor": str(factor),
    }
    text = (
        f"{head}: {show(velocity)} units/day × {show(policy.days)} days × risk "
        f"{policy.risk_class} {factor} = {show(numerator / window)} → {shown} "
        f"({net} sold net of returns in the last {policy.velocity_days} days)"
    )
    return Derivation(buffer, text, inputs)


NO_POLICY = "no policy covers this balance any more: buffer reset to 0"


def no_policy() -> Derivation:
    """What a balance a policy used to cover gets when none does now."""
    return Derivation(0, NO_POLICY, {"source": "none"})


def by_hand(buffer: int, actor: str | None) -> Derivation:
    """A buffer a person set directly (``service.set_buffer``)."""
    who = actor or "an unnamed caller"
    return Derivation(buffer, f"set by hand by {who}", {"source": "hand", "actor": actor})
