"""Pricing use cases that read: price a basket, against the database of record.

``price_basket`` is what the web cart, the POS, the call center and ``onestore price`` call. It
resolves the basket against the catalog (SKUs, channel, store), checks the coupons, takes the
price book of the current data version (kept in memory per worker, see ``books``) and hands it
all to the pure engine. It writes nothing: a cart may be priced as often as it changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Label, select

from onestore.db.database import Database
from onestore.db.uow import UnitOfWork
from onestore.kernel.errors import FieldError, ValidationFailed
from onestore.kernel.money import Money
from onestore.pricing import coupons, refs
from onestore.pricing import tables as t
from onestore.pricing.basket import BasketIn
from onestore.pricing.book import PriceBook
from onestore.pricing.books import VERSION_COLUMN, cache_for
from onestore.pricing.engine import price
from onestore.pricing.model import PricedBasket, PricingContext, PricingLine, TaxRounding, Why


@dataclass(frozen=True, slots=True)
class ChannelPricing:
    """A channel's pricing settings (``pricing_channel_settings``; defaults when absent)."""

    tax_rounding: TaxRounding = TaxRounding.LINE
    compound_across_priorities: bool = False
    default_tax_group: str | None = None


def channel_pricing(uow: UnitOfWork, channel: str) -> ChannelPricing:
    s = t.channel_settings
    row = uow.conn.execute(select(s).where(s.c.channel_code == channel)).first()
    if row is None:
        return ChannelPricing()
    return ChannelPricing(
        TaxRounding(row.tax_rounding), bool(row.compound_across_priorities), row.default_tax_group
    )


def price_basket(db: Database, basket: BasketIn) -> PricedBasket:
    """Price ``basket`` as the channel would sell it now (or at ``basket.at``)."""
    with db.uow(readonly=True) as uow:
        cache = cache_for(db)
        skus = [line.sku for line in basket.lines]
        columns: tuple[Label[Any], ...] = (VERSION_COLUMN,)
        params: dict[str, Any] = {}
        if basket.coupons:  # and the coupons, in the same statement
            columns += (coupons.coupons_column(uow.conn.dialect.name),)
            params["coupon_codes"] = sorted({c.upper() for c in basket.coupons})
        facts, extra = refs.sku_facts_with(uow, skus, columns, params, cache.recent)
        version = None if extra is None or extra[0] is None else int(extra[0])
        book = cache.get(uow, version)
        known = coupons.from_column(extra[1]) if extra is not None and basket.coupons else None
        ctx, lines = resolve(uow, book, basket, cache.recent, facts=facts, coupons_read=known)
    return price(book, lines, ctx)


def resolve(
    uow: UnitOfWork,
    book: PriceBook,
    basket: BasketIn,
    recent: refs.Recent | None = None,
    *,
    facts: dict[str, refs.SkuFacts] | None = None,
    coupons_read: list[coupons.Coupon] | None = None,
) -> tuple[PricingContext, list[PricingLine]]:
    """The engine's inputs for ``basket``: its context and its lines with their start prices.

    ``recent`` remembers channel facts and the category tree for a few seconds (the service
    passes its worker's; without it every basket reads them); ``facts`` and ``coupons_read``
    are the basket's SKU facts and coupons when the caller has read them already."""
    channel = refs.channel_or_raise(uow, basket.channel, recent=recent)
    if recent is None:
        settings = channel_pricing(uow, channel.code)
    else:
        settings = recent.get(("pricing", channel.code), lambda: channel_pricing(uow, channel.code))
    where, zone, store = channel.jurisdiction, channel.timezone, None
    if basket.store is not None:
        found = refs.store_or_raise(uow, basket.store, recent=recent)
        where, zone, store = found.jurisdiction, found.timezone, found.code
    if basket.ship_to is not None:
        where = refs.jurisdiction(*basket.ship_to)
    at = _local(basket.at or uow.now(), zone)
    unlocked = coupons.check(
        uow, basket.coupons, customer=basket.customer, day=at.date(), known=coupons_read
    )
    ctx = PricingContext(
        channel=channel.code,
        currency=channel.currency,
        at=at,
        store=store,  # its code, as scopes and price groups name stores
        affiliations=basket.customer_groups,
        loyalty_tier=basket.loyalty_tier,
        coupon_discounts=frozenset(unlocked.values()),
        jurisdiction=where,
        prices_include_tax=channel.prices_include_tax,
        tax_rounding=settings.tax_rounding,
        compound_across_priorities=settings.compound_across_priorities,
    )
    if facts is None:
        facts = refs.sku_facts(uow, [line.sku for line in basket.lines], recent)
    overrides = _overrides(uow, [line.override for line in basket.lines if line.override])
    groups = book.applicable_groups(ctx)
    lines: list[PricingLine] = []
    errors: list[FieldError] = []
    for n, line in enumerate(basket.lines):
        fact = facts.get(line.sku)
        where_line = f"lines[{n}]"
        if fact is None:
            errors.append(FieldError(f"{where_line}.sku", f"unknown SKU {line.sku!r}"))
            continue
        if fact.status != "active":
            errors.append(FieldError(f"{where_line}.sku", f"SKU {line.sku} is {fact.status}"))
            continue
        exponent = line.quantity.normalize().as_tuple().exponent
        if isinstance(exponent, int) and -exponent > fact.unit_decimals:
            reason = (
                "must be a whole number: this item is sold in whole units"
                if fact.unit_decimals == 0
                else f"allows at most {fact.unit_decimals} decimal places"
            )
            errors.append(FieldError(f"{where_line}.quantity", reason))
            continue
        manual = overrides.get(line.override) if line.override else None
        if line.override and (manual is None or manual[0] != line.sku or manual[1] != store):
            errors.append(
                FieldError(f"{where_line}.override", "no such override for this SKU at this store")
            )
            continue
        try:
            unit_price, source = book.resolve_price(
                line.sku, fact.list_price, ctx, groups, field=f"{where_line}.sku"
            )
        except ValidationFailed as exc:
            errors.extend(exc.errors)
            continue
        if manual is not None:
            unit_price, source = manual[2], f"manual override ({manual[3]})"
        lines.append(
            PricingLine(
                line_id=line.line_id,
                sku=line.sku,
                product=fact.product,
                categories=fact.categories,
                quantity=line.quantity,
                unit_price=unit_price,
                price_source=source,
                tax_group=book.product_tax_groups.get(fact.product, settings.default_tax_group),
                overridden=manual is not None,
            )
        )
    if errors:
        raise ValidationFailed(f"{errors[0].field}: {errors[0].reason}", errors=errors)
    return ctx, lines


def _overrides(uow: UnitOfWork, ids: list[str]) -> dict[str, tuple[str, str | None, Money, str]]:
    """Override id -> (sku, store, price, reason) for the manual prices a basket names."""
    if not ids:
        return {}
    o = t.price_overrides
    rows = uow.conn.execute(select(o).where(o.c.id.in_(ids)))
    return {
        r.id: (r.sku, r.store, Money(Decimal(r.to_amount), r.currency).rounded(), r.reason_code)
        for r in rows
    }


def _local(moment: datetime, zone: str) -> datetime:
    """Wall-clock time where the sale happens: discount hours and dates are local.

    A naive ``at`` is already local; an aware one (and the server's clock) is converted to the
    store's (or the channel location's) time zone.
    """
    if moment.tzinfo is None:
        return moment
    try:
        zone_info = ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        return moment.replace(tzinfo=None)
    try:
        return moment.astimezone(zone_info).replace(tzinfo=None)
    except OverflowError:
        raise ValidationFailed.on("at", "is out of the range of dates") from None


SHOPPER_HIDDEN = frozenset({Why.SCOPE, Why.COUPON})
"""Candidates a shopper is not shown: that a discount exists for other channels, stores or
customer groups, or behind a coupon code, is the retailer's business."""


def priced_to_json(basket: PricedBasket, *, shopper: bool = False) -> dict[str, object]:
    """The wire form of a priced basket (API, CLI): money as strings, reasons as text. For a
    ``shopper`` the candidates in :data:`SHOPPER_HIDDEN` are left out."""
    return {
        "currency": basket.currency,
        "version": basket.version,
        "prices_include_tax": basket.prices_include_tax,
        "subtotal": basket.subtotal.as_json(),
        "discount_total": basket.discount_total.as_json(),
        "tax_total": basket.tax_total.as_json(),
        "total": basket.total.as_json(),
        "search": {
            "states": basket.search.states,
            "exact": basket.search.exact,
            "exhaustive": basket.search.exhaustive,
        },
        "lines": [
            {
                "line_id": line.line_id,
                "sku": line.sku,
                "quantity": _quantity(line.quantity),
                "unit_price": line.unit_price.as_json(),
                "price_source": line.price_source,
                "gross": line.gross.as_json(),
                "discounts": [d.as_json() for d in line.discounts],
                "discount_total": line.discount_total.as_json(),
                "net": line.net.as_json(),
                "tax_group": line.tax_group,
                "tax_rate": None if line.tax_rate is None else _quantity(line.tax_rate),
                "tax": line.tax.as_json(),
                "considered": [
                    c.as_json()
                    for c in line.considered
                    if not (shopper and c.why in SHOPPER_HIDDEN)
                ],
            }
            for line in basket.lines
        ],
    }


def _quantity(value: Decimal) -> str:
    return format(value.normalize(), "f")
