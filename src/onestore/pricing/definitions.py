"""Discount documents: the JSON a merchandiser writes (import file, API body) to and from
:class:`~onestore.pricing.model.Discount`, every error naming its field.

One discount::

    {"code": "SUMMER10",                 # 1-64 of letters, digits, ".", "_", "-"
     "name": "Summer 10%",
     "kind": "simple" | "quantity" | "mix_match" | "threshold",
     "concurrency": "exclusive" | "best_price" | "compounded",
     "priority": 10,                     # -1000..1000, default 0
     "currency": "EUR",                  # required once any amount or price is used
     "coupon_required": false,           # default false
     "scope": {"channels": ["WEB"], "stores": ["S001"], "customer_groups": ["staff"],
               "loyalty_tiers": ["gold"], "valid_from": "2026-12-01", "valid_to": "2026-12-31",
               "weekdays": ["mon", "tue"], "start_time": "17:00", "end_time": "19:00"},
     "items": {"skus": [], "products": [], "categories": [],
               "exclude_skus": [], "exclude_products": [], "exclude_categories": []},
     ...the rule, by kind:
     simple:    "method": "percent" | "amount" | "price", "value": "10"
     quantity:  "tiers": [{"min_quantity": "2", "method": "percent" | "amount" | "price",
                           "value": "10"}, ...]                  # strictly increasing
                or "deal": {"quantity": 3, "price": "10.00"}     # buy 3 for 10.00
     mix_match: "groups": [{"name": "A", "quantity": 2, "items": {...}}, ...],
                "method": "deal_price" | "percent" | "amount" | "least_expensive_free",
                "value": "25.00",                 # not with least_expensive_free
                "free_count": 1,                  # only with least_expensive_free, default 1
                "max_applications": 2             # optional, per basket
     threshold: "tiers": [{"min_amount": "100.00", "method": "percent" | "amount",
                           "value": "10.00"}, ...]               # strictly increasing
    }

Every ``scope`` and ``items`` key is optional (absent, null or ``[]``: no restriction; an empty
``weekdays`` is every day). Their list entries are codes like ``code`` (compared exactly).
Dates are ``YYYY-MM-DD`` and ``valid_to`` (inclusive) is not before ``valid_from``; times are
``HH:MM``, given together and different, ``end_time`` exclusive, and a window may pass midnight.
``customer_groups`` are the model's ``affiliations``; weekdays ``mon``..``sun`` (any case) are
0..6. Numbers that are not counts (values, minimums, prices) are decimal strings (a Decimal from
a strict JSON parser is accepted too, a float never); counts are whole numbers.

Rules: a percent is more than 0 and at most 100; an amount off is more than 0; a price (unit
price, deal price) and a threshold minimum are at least 0; amounts have at most the currency's
decimals. A threshold's minimums are amounts, so a threshold always needs a currency. A quantity
discount has ``tiers`` or a ``deal``, not both; a deal is held as a one-group set of the
discount's items (group name ``deal``, ``method`` ``deal_price``), so the engine treats it as a
mix and match of one group. A least-expensive-free set must keep at least one unit paid. A key
the discount's kind does not use is an error, like a key no discount has.

A whole file is ``{"format": "onestore.discounts/1", "discounts": [...]}`` with unique codes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from onestore.pricing.doc_fields import Fields, Problems, as_fields, join, number_text
from onestore.pricing.model import (
    Concurrency,
    Discount,
    ItemFilter,
    Kind,
    Method,
    MixMatchGroup,
    QuantityTier,
    Scope,
    ThresholdTier,
)

FORMAT = "onestore.discounts/1"
MIN_PRIORITY, MAX_PRIORITY = -1000, 1000
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_GROUP_NAME = 64

SIMPLE_METHODS = (Method.PERCENT, Method.AMOUNT, Method.PRICE)
TIER_METHODS = (Method.PERCENT, Method.AMOUNT, Method.PRICE)
MIX_MATCH_METHODS = (Method.DEAL_PRICE, Method.PERCENT, Method.AMOUNT, Method.LEAST_EXPENSIVE_FREE)
THRESHOLD_METHODS = (Method.PERCENT, Method.AMOUNT)

_IDENTITY_KEYS = ("code", "name", "kind", "concurrency", "priority", "coupon_required")
_COMMON_KEYS = (*_IDENTITY_KEYS, "currency", "scope", "items")
_KIND_KEYS: Mapping[Kind, tuple[str, ...]] = {
    Kind.SIMPLE: ("method", "value"),
    Kind.QUANTITY: ("tiers", "deal"),
    Kind.MIX_MATCH: ("groups", "method", "value", "free_count", "max_applications"),
    Kind.THRESHOLD: ("tiers",),
}
_SCOPE_CODES = ("channels", "stores", "customer_groups", "loyalty_tiers")
_SCOPE_KEYS = (*_SCOPE_CODES, "valid_from", "valid_to", "weekdays", "start_time", "end_time")
_ITEM_KEYS = tuple(f.name for f in dataclasses.fields(ItemFilter))  # skus ... exclude_categories


# -- reading --------------------------------------------------------------------------------------
def parse_discount(doc: object, where: str = "") -> Discount:
    """One discount from its JSON form; ``where`` prefixes every field path (``discounts[3]``)."""
    problems = Problems()
    discount = _read_discount(doc, where, problems)
    problems.raise_if_any()
    assert discount is not None
    return discount


def parse_discounts_document(doc: object) -> list[Discount]:
    """Every discount of an ``onestore.discounts/1`` document, or one error listing all faults."""
    problems = Problems()
    result: list[Discount] = []
    fields = as_fields(doc, "", problems)
    if fields is not None:
        fields.check_keys(("format", "discounts"))
        fields.check_format(FORMAT)
        first_seen: dict[str, int] = {}
        for i, (path, raw) in enumerate(fields.elements("discounts")):
            discount = _read_discount(raw, path, problems)
            if discount is not None:
                result.append(discount)
            code = raw.get("code") if isinstance(raw, Mapping) else None
            if isinstance(code, str) and code:
                if code in first_seen:
                    problems.add(join(path, "code"), f"duplicate of discounts[{first_seen[code]}]")
                else:
                    first_seen[code] = i
    problems.raise_if_any()
    return result


@dataclass(frozen=True, slots=True)
class _Rule:
    """The kind-specific part of a discount, with the model's defaults."""

    method: Method = Method.PERCENT
    value: Decimal = Decimal(0)
    tiers: tuple[QuantityTier, ...] = ()
    groups: tuple[MixMatchGroup, ...] = ()
    free_count: int = 1
    max_applications: int | None = None
    threshold_tiers: tuple[ThresholdTier, ...] = ()


class _Amounts:
    """Reads a discount's values: percents, and amounts in the discount's ``currency``."""

    def __init__(self, fields: Fields) -> None:
        self.path = fields.path("currency")
        self.problems = fields.problems
        before = len(fields.problems)
        self.currency = fields.currency(required=False)
        self.unreadable = len(fields.problems) > before  # given but invalid: don't ask again
        self.needed_by: list[str] = []

    def amount(self, fields: Fields, key: str, *, positive: bool) -> Decimal | None:
        if self.currency is None and fields.given(key):
            self.needed_by.append(fields.path(key))
        return fields.amount(key, self.currency, positive=positive)

    def value(self, fields: Fields, key: str, method: Method | None) -> Decimal | None:
        if method is Method.PERCENT:
            value = fields.number(key)
            if value is not None and not 0 < value <= 100:
                fields.error(key, "a percent must be more than 0 and at most 100")
                return None
            return value
        if method is Method.AMOUNT:
            return self.amount(fields, key, positive=True)
        if method in (Method.PRICE, Method.DEAL_PRICE):
            return self.amount(fields, key, positive=False)
        fields.number(key)  # unknown method: still say whether the value itself is readable
        return None

    def finish(self) -> None:
        if self.needed_by and self.currency is None and not self.unreadable:
            self.problems.add(self.path, f"is required: {self.needed_by[0]} is an amount")


def _read_discount(raw: object, where: str, problems: Problems) -> Discount | None:
    fields = as_fields(raw, where, problems)
    if fields is None:
        return None
    before = len(problems)
    code = fields.code("code")
    name = fields.text("name")
    kind = fields.choice("kind", Kind)
    concurrency = fields.choice("concurrency", Concurrency)
    priority = fields.integer("priority", low=MIN_PRIORITY, high=MAX_PRIORITY, default=0)
    coupon_required = fields.flag("coupon_required")
    amounts = _Amounts(fields)
    scope = _scope(fields.child("scope"))
    items = _items(fields.child("items"))
    rule: _Rule | None = None
    if kind is None:
        fields.check_keys(
            dict.fromkeys(k for keys in (_COMMON_KEYS, *_KIND_KEYS.values()) for k in keys)
        )
    else:
        _check_kind_keys(fields, kind)
        rule = _RULES[kind](fields, amounts, items)
    amounts.finish()
    if len(problems) > before:
        return None
    assert code and name and kind and concurrency and priority is not None and rule
    return Discount(
        code=code,
        name=name,
        kind=kind,
        concurrency=concurrency,
        priority=priority,
        scope=scope,
        items=items,
        method=rule.method,
        value=rule.value,
        tiers=rule.tiers,
        groups=rule.groups,
        free_count=rule.free_count,
        max_applications=rule.max_applications,
        threshold_tiers=rule.threshold_tiers,
        coupon_required=coupon_required,
        currency=amounts.currency,
    )


def _check_kind_keys(fields: Fields, kind: Kind) -> None:
    own = (*_COMMON_KEYS, *_KIND_KEYS[kind])
    items = fields.raw.get("items")
    if kind is Kind.MIX_MATCH and isinstance(items, dict) and any(items.values()):
        fields.error("items", "a mix_match discount takes its item rules in each group's items")
    others = {k for keys in _KIND_KEYS.values() for k in keys if k not in own}
    fields.check_keys(own, {k: f"not used by a {kind.value} discount" for k in others})


def _scope(fields: Fields | None) -> Scope:
    if fields is None:
        return Scope()
    fields.check_keys(_SCOPE_KEYS)
    channels, stores, groups, tiers = (fields.codes(key) for key in _SCOPE_CODES)
    valid_from, valid_to = fields.day("valid_from"), fields.day("valid_to")
    if valid_from and valid_to and valid_to < valid_from:
        fields.error("valid_to", f"is before valid_from {valid_from.isoformat()}")
    start, end = fields.clock("start_time"), fields.clock("end_time")
    if fields.given("start_time") and not fields.given("end_time"):
        fields.error("end_time", "is required with start_time")
    elif fields.given("end_time") and not fields.given("start_time"):
        fields.error("start_time", "is required with end_time")
    elif start is not None and start == end:
        fields.error("end_time", "must differ from start_time")
    return Scope(
        channels=channels,
        stores=stores,
        affiliations=groups,
        loyalty_tiers=tiers,
        valid_from=valid_from,
        valid_to=valid_to,
        weekdays=_weekdays(fields),
        start_time=start,
        end_time=end,
    )


def _weekdays(fields: Fields) -> frozenset[int]:
    days: set[int] = set()
    for path, value in fields.elements("weekdays", required=False):
        if isinstance(value, str) and value.strip().lower() in WEEKDAYS:
            days.add(WEEKDAYS.index(value.strip().lower()))
        else:
            fields.problems.add(
                path, f"{value!r} is not a weekday; use one of {', '.join(WEEKDAYS)}"
            )
    return frozenset(days)


def _items(fields: Fields | None) -> ItemFilter:
    if fields is None:
        return ItemFilter()
    fields.check_keys(_ITEM_KEYS)
    return ItemFilter(*(fields.codes(key) for key in _ITEM_KEYS))


# -- the rule of each kind ------------------------------------------------------------------------
def _simple(fields: Fields, amounts: _Amounts, items: ItemFilter) -> _Rule | None:
    method = fields.choice("method", Method, SIMPLE_METHODS, what="for a simple discount")
    value = amounts.value(fields, "value", method)
    return None if method is None or value is None else _Rule(method=method, value=value)


def _quantity(fields: Fields, amounts: _Amounts, items: ItemFilter) -> _Rule | None:
    if fields.given("tiers") and fields.given("deal"):
        fields.error("deal", "give either tiers or a deal, not both")
        return None
    if not fields.given("tiers") and not fields.given("deal"):
        fields.error("tiers", "is required: give tiers or a deal")
        return None
    if fields.given("tiers"):
        tiers = _tiers(fields, amounts, "min_quantity", TIER_METHODS)
        return _Rule(tiers=tuple(QuantityTier(*t) for t in tiers))
    deal = fields.child("deal")
    if deal is None:
        return None
    deal.check_keys(("quantity", "price"))
    quantity = deal.integer(
        "quantity",
        low=2,
        required=True,
        too_low="must be at least 2 (buy 1 for a price is a simple discount, method price)",
    )
    price = amounts.amount(deal, "price", positive=False)
    if quantity is None or price is None:
        return None
    group = MixMatchGroup(name="deal", items=items, quantity=quantity)
    return _Rule(method=Method.DEAL_PRICE, value=price, groups=(group,))


def _threshold(fields: Fields, amounts: _Amounts, items: ItemFilter) -> _Rule | None:
    tiers = _tiers(fields, amounts, "min_amount", THRESHOLD_METHODS)
    return _Rule(threshold_tiers=tuple(ThresholdTier(*t) for t in tiers))


def _tiers(
    fields: Fields, amounts: _Amounts, minimum_key: str, methods: tuple[Method, ...]
) -> list[tuple[Decimal, Method, Decimal]]:
    """Quantity or threshold tiers: each a minimum, a method and a value, minimums increasing."""
    tiers: list[tuple[Decimal, Method, Decimal]] = []
    previous: tuple[int, Decimal] | None = None
    for i, (path, raw) in enumerate(fields.elements("tiers", non_empty=True)):
        tier = as_fields(raw, path, fields.problems)
        if tier is None:
            continue
        tier.check_keys((minimum_key, "method", "value"))
        if minimum_key == "min_amount":
            minimum = amounts.amount(tier, minimum_key, positive=False)
        else:
            minimum = tier.number(minimum_key)
            if minimum is not None and minimum <= 0:
                tier.error(minimum_key, "must be more than 0")
                minimum = None
        method = tier.choice("method", Method, methods, what="for a tier of this kind")
        value = amounts.value(tier, "value", method)
        if minimum is not None:
            if previous is not None and minimum <= previous[1]:
                tier.error(
                    minimum_key,
                    f"overlapping tiers: must be more than tiers[{previous[0]}]'s "
                    f"{number_text(previous[1])}; list tiers from the smallest minimum up",
                )
            previous = (i, minimum)
        if minimum is not None and method is not None and value is not None:
            if tiers and tiers[-1][1] is method and _worse(method, value, tiers[-1][2]):
                tier.error(
                    "value",
                    f"a higher tier must not give less than tiers[{len(tiers) - 1}] "
                    f"({number_text(tiers[-1][2])}); the best price search assumes more bought "
                    "is never worse",
                )
            tiers.append((minimum, method, value))
    return tiers


def _worse(method: Method, value: Decimal, below: Decimal) -> bool:
    """Whether a tier gives less than the tier below it with the same method."""
    return value > below if method is Method.PRICE else value < below


def _mix_match(fields: Fields, amounts: _Amounts, items: ItemFilter) -> _Rule | None:
    before = len(fields.problems)
    groups = _groups(fields)
    groups_complete = len(fields.problems) == before
    method = fields.choice("method", Method, MIX_MATCH_METHODS, what="for a mix_match discount")
    value: Decimal | None = Decimal(0)
    free_count: int | None = 1
    if method is Method.LEAST_EXPENSIVE_FREE:
        if fields.given("value"):
            fields.error("value", "not used with least_expensive_free; give free_count")
        free_count = fields.integer("free_count", low=1, default=1)
        set_size = sum(g.quantity for g in groups)
        if free_count is not None and groups_complete and groups and free_count >= set_size:
            fields.error(
                "free_count",
                f"must be less than the set size {set_size}: a set that is entirely free "
                "cannot be satisfied",
            )
    else:
        if fields.given("free_count"):
            fields.error("free_count", "only used with least_expensive_free")
        value = amounts.value(fields, "value", method)
    max_applications = fields.integer("max_applications", low=1)
    if method is None or value is None or free_count is None:
        return None
    return _Rule(
        method=method,
        value=value,
        groups=groups,
        free_count=free_count,
        max_applications=max_applications,
    )


def _groups(fields: Fields) -> tuple[MixMatchGroup, ...]:
    groups: list[MixMatchGroup] = []
    first_seen: dict[str, int] = {}
    for i, (path, raw) in enumerate(fields.elements("groups", non_empty=True)):
        group = as_fields(raw, path, fields.problems)
        if group is None:
            continue
        group.check_keys(("name", "quantity", "items"))
        name = group.text("name", max_length=MAX_GROUP_NAME)
        quantity = group.integer("quantity", low=1, required=True)
        items = _items(group.child("items"))
        if name is not None and name in first_seen:
            group.error("name", f"duplicate of groups[{first_seen[name]}]")
        elif name is not None:
            first_seen[name] = i
        if name is not None and quantity is not None:
            groups.append(MixMatchGroup(name=name, items=items, quantity=quantity))
    return tuple(groups)


_RULES: Mapping[Kind, Callable[[Fields, _Amounts, ItemFilter], _Rule | None]] = {
    Kind.SIMPLE: _simple,
    Kind.QUANTITY: _quantity,
    Kind.MIX_MATCH: _mix_match,
    Kind.THRESHOLD: _threshold,
}


# -- writing --------------------------------------------------------------------------------------
def discount_to_json(d: Discount) -> dict[str, object]:
    """The JSON form of ``d``: ``parse_discount(discount_to_json(d)) == d``."""
    doc: dict[str, object] = {
        "code": d.code,
        "name": d.name,
        "kind": d.kind.value,
        "concurrency": d.concurrency.value,
        "priority": d.priority,
        "currency": d.currency,
        "coupon_required": d.coupon_required,
        "scope": _scope_json(d.scope),
        "items": _items_json(d.items),
    }
    if d.kind is Kind.SIMPLE:
        doc |= {"method": d.method.value, "value": number_text(d.value)}
    elif d.kind is Kind.QUANTITY and d.groups:
        doc["deal"] = {"quantity": d.groups[0].quantity, "price": number_text(d.value)}
    elif d.kind is Kind.QUANTITY:
        doc["tiers"] = [_tier_json("min_quantity", t) for t in d.tiers]
    elif d.kind is Kind.THRESHOLD:
        doc["tiers"] = [_tier_json("min_amount", t) for t in d.threshold_tiers]
    else:
        doc["groups"] = [
            {"name": g.name, "quantity": g.quantity, "items": _items_json(g.items)}
            for g in d.groups
        ]
        doc["method"] = d.method.value
        if d.method is Method.LEAST_EXPENSIVE_FREE:
            doc["free_count"] = d.free_count
        else:
            doc["value"] = number_text(d.value)
        doc["max_applications"] = d.max_applications
    return doc


def _tier_json(minimum_key: str, tier: QuantityTier | ThresholdTier) -> dict[str, object]:
    minimum = tier.min_quantity if isinstance(tier, QuantityTier) else tier.min_amount
    return {
        minimum_key: number_text(minimum),
        "method": tier.method.value,
        "value": number_text(tier.value),
    }


def _scope_json(scope: Scope) -> dict[str, object]:
    return {
        "channels": sorted(scope.channels),
        "stores": sorted(scope.stores),
        "customer_groups": sorted(scope.affiliations),
        "loyalty_tiers": sorted(scope.loyalty_tiers),
        "valid_from": scope.valid_from.isoformat() if scope.valid_from else None,
        "valid_to": scope.valid_to.isoformat() if scope.valid_to else None,
        "weekdays": [WEEKDAYS[day] for day in sorted(scope.weekdays)],
        "start_time": None if scope.start_time is None else f"{scope.start_time:%H:%M}",
        "end_time": None if scope.end_time is None else f"{scope.end_time:%H:%M}",
    }


def _items_json(items: ItemFilter) -> dict[str, object]:
    return {key: sorted(getattr(items, key)) for key in _ITEM_KEYS}
