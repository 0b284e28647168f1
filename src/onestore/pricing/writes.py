"""Pricing use cases that write: price groups and prices, discounts, coupons, tax.

Every change runs in the caller's unit of work, checks what it references (SKUs, channels,
stores, discounts) against the database, bumps the pricing data version and emits one
``pricing.changed`` event carrying the new version — the signal a store node uses to pull the
new price book. Imports are upserts keyed the way people think of the data: a price by (group,
SKU, currency, valid from), a discount and a coupon by code, a tax rate by (group, jurisdiction,
valid from).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, delete, insert, select, update

from onestore.db.uow import UnitOfWork
from onestore.kernel.errors import FieldError, NotFound, ValidationFailed
from onestore.kernel.events import DomainEvent
from onestore.kernel.ids import new_id
from onestore.pricing import refs
from onestore.pricing import tables as t
from onestore.pricing.books import bump_version, tax_rate_of
from onestore.pricing.definitions import discount_to_json
from onestore.pricing.model import Discount, PriceEntry, PriceGroup, TaxRate
from onestore.pricing.price_files import PriceData
from onestore.pricing.settings_files import CouponIn, TaxData
from onestore.pricing.tax import overlap_reason, overlapping

LINK_KINDS = ("channel", "store", "customer_group", "loyalty_tier")


@dataclass(frozen=True, slots=True)
class Change:
    """What one write did: counts per kind of row and the pricing data version after it."""

    version: int
    created: int = 0
    updated: int = 0

    def as_json(self) -> dict[str, int]:
        return {"version": self.version, "created": self.created, "updated": self.updated}


def _begin(uow: UnitOfWork) -> int:
    """Bump the version first: its row lock then serializes concurrent pricing writes, so two
    first-time writes of one new code cannot both insert it (the loser waits, then updates)."""
    return bump_version(uow, uow.now())


def _changed(uow: UnitOfWork, version: int, what: str, created: int, updated: int) -> Change:
    uow.emit(
        DomainEvent(
            "pricing.changed",
            "pricing",
            "book",
            {"version": version, "what": what, "created": created, "updated": updated},
        )
    )
    return Change(version, created, updated)


def _raise(errors: list[FieldError]) -> None:
    if errors:
        raise ValidationFailed(f"{errors[0].field}: {errors[0].reason}", errors=errors)


def _check_codes(
    uow: UnitOfWork, kind: str, wanted: dict[str, str], errors: list[FieldError]
) -> None:
    """``wanted`` maps a code to the field that named it; unknown codes are errors there."""
    known = refs.known_codes(uow, kind, set(wanted))
    for code, field in sorted(wanted.items()):
        if code not in known:
            errors.append(FieldError(field, f"unknown {kind} {code!r}"))


# -- price groups and prices ----------------------------------------------------------------------
def import_prices(uow: UnitOfWork, data: PriceData) -> Change:
    """Upsert price groups (with their links) and prices, all or nothing."""
    version = _begin(uow)
    errors: list[FieldError] = []
    channels = {
        c: f"price_groups[{i}].channels" for i, g in enumerate(data.groups) for c in g.channels
    }
    stores = {s: f"price_groups[{i}].stores" for i, g in enumerate(data.groups) for s in g.stores}
    _check_codes(uow, "channel", channels, errors)
    _check_codes(uow, "store", stores, errors)
    stored_groups = {r.code for r in uow.conn.execute(select(t.price_groups.c.code))}
    named = stored_groups | {g.code for g in data.groups}
    skus = refs.known_skus(uow, {p.sku for p in data.prices})
    for i, p in enumerate(data.prices):
        if p.group not in named:
            errors.append(FieldError(f"prices[{i}].group", f"unknown price group {p.group!r}"))
        if p.sku not in skus:
            errors.append(FieldError(f"prices[{i}].sku", f"unknown SKU {p.sku!r}"))
    _raise(errors)
    created = updated = 0
    now = uow.now()
    for g in data.groups:
        values = {"name": g.name, "priority": g.priority, "updated_at": now}
        if g.code in stored_groups:
            uow.conn.execute(
                update(t.price_groups).where(t.price_groups.c.code == g.code).values(**values)
            )
            uow.conn.execute(
                delete(t.price_group_links).where(t.price_group_links.c.group_code == g.code)
            )
            updated += 1
        else:
            uow.conn.execute(insert(t.price_groups).values(code=g.code, created_at=now, **values))
            created += 1
        links = [
            {"group_code": g.code, "kind": kind, "value": value}
            for kind, values_ in zip(LINK_KINDS, _links(g), strict=True)
            for value in sorted(values_)
        ]
        if links:
            uow.conn.execute(insert(t.price_group_links), links)
    c, u = _upsert_prices(uow, data.prices)
    return _changed(uow, version, "prices", created + c, updated + u)


def _links(g: PriceGroup) -> tuple[frozenset[str], ...]:
    return (g.channels, g.stores, g.affiliations, g.loyalty_tiers)


def _upsert_prices(uow: UnitOfWork, entries: Sequence[PriceEntry]) -> tuple[int, int]:
    p = t.prices
    created = updated = 0
    errors: list[FieldError] = []
    now = uow.now()
    for i, e in enumerate(entries):
        same = and_(p.c.group_code == e.group, p.c.sku == e.sku, p.c.currency == e.currency)
        stored = uow.conn.execute(select(p.c.id, p.c.valid_from, p.c.valid_to).where(same)).all()
        mine = next((r for r in stored if r.valid_from == e.valid_from), None)
        for r in stored:
            if r is not mine and _overlap(r.valid_from, r.valid_to, e.valid_from, e.valid_to):
                errors.append(
                    FieldError(
                        f"prices[{i}]",
                        f"overlaps the stored {e.group} price of {e.sku} in {e.currency} from "
                        f"{r.valid_from or 'always'} to {r.valid_to or 'open end'}",
                    )
                )
        if mine is not None:
            uow.conn.execute(
                update(p)
                .where(p.c.id == mine.id)
                .values(amount=e.amount, valid_to=e.valid_to, updated_at=now)
            )
            updated += 1
        else:
            uow.conn.execute(
                insert(p).values(
                    id=new_id(),
                    group_code=e.group,
                    sku=e.sku,
                    currency=e.currency,
                    amount=e.amount,
                    valid_from=e.valid_from,
                    valid_to=e.valid_to,
                    updated_at=now,
                )
            )
            created += 1
    _raise(errors)
    return created, updated


def _overlap(
    a_from: date | None, a_to: date | None, b_from: date | None, b_to: date | None
) -> bool:
    """Two inclusive date ranges (None = open) share a day."""
    return (a_to is None or b_from is None or b_from <= a_to) and (
        b_to is None or a_from is None or a_from <= b_to
    )


# -- discounts ------------------------------------------------------------------------------------
def import_discounts(
    uow: UnitOfWork, discounts: Sequence[Discount], *, where: str = "discounts"
) -> Change:
    """Create or replace discounts by code (a replaced one keeps its code, revision + 1)."""
    version = _begin(uow)
    errors: list[FieldError] = []
    channels: dict[str, str] = {}
    stores: dict[str, str] = {}
    for i, d in enumerate(discounts):
        channels.update({c: f"{where}[{i}].scope.channels" for c in d.scope.channels})
        stores.update({s: f"{where}[{i}].scope.stores" for s in d.scope.stores})
    _check_codes(uow, "channel", channels, errors)
    _check_codes(uow, "store", stores, errors)
    named = {s for d in discounts for f in _filters(d) for s in f.skus | f.exclude_skus}
    known = refs.known_skus(uow, named)
    for i, d in enumerate(discounts):
        for sku in sorted({s for f in _filters(d) for s in f.skus | f.exclude_skus} - known):
            errors.append(FieldError(f"{where}[{i}].items", f"unknown SKU {sku!r}"))
    _raise(errors)
    created = updated = 0
    now = uow.now()
    for d in discounts:
        values = {
            "name": d.name,
            "kind": d.kind.value,
            "concurrency": d.concurrency.value,
            "priority": d.priority,
            "definition": discount_to_json(d),
            "updated_at": now,
        }  # an update keeps is_active: re-importing does not revive a switched-off discount
        done = uow.conn.execute(
            update(t.discounts)
            .where(t.discounts.c.code == d.code)
            .values(revision=t.discounts.c.revision + 1, **values)
        )
        if done.rowcount:
            updated += 1
        else:
            uow.conn.execute(
                insert(t.discounts).values(code=d.code, revision=1, created_at=now, **values)
            )
            created += 1
    return _changed(uow, version, "discounts", created, updated)


def _filters(d: Discount) -> list:  # type: ignore[type-arg]
    return [d.items, *(g.items for g in d.groups)]


def _refuse_overlaps(uow: UnitOfWork, imported: Sequence[TaxRate]) -> None:
    """After the upsert: the stored rates of every group and jurisdiction the file touched
    must not overlap (``tax.overlapping``); the error names the file's rate that clashes."""
    r = t.tax_rates
    pairs = {(rate.tax_group, rate.jurisdiction) for rate in imported}
    rows = uow.conn.execute(select(r).where(r.c.tax_group.in_(sorted({g for g, _ in pairs}))))
    stored = [tax_rate_of(row) for row in rows]
    clash = overlapping([rate for rate in stored if (rate.tax_group, rate.jurisdiction) in pairs])
    if clash is None:
        return
    keys = {(c.tax_group, c.jurisdiction, c.valid_from) for c in clash}
    mine = [
        i
        for i, rate in enumerate(imported)
        if (rate.tax_group, rate.jurisdiction, rate.valid_from) in keys
    ]
    field = f"rates[{mine[-1]}]" if mine else "rates"
    reason = f"overlaps a stored rate: {overlap_reason(*clash)}"
    raise ValidationFailed(f"{field}: {reason}", errors=[FieldError(field, reason)])


def set_discount_active(uow: UnitOfWork, code: str, active: bool) -> Change:
    version = _begin(uow)
    done = uow.conn.execute(
        update(t.discounts)
        .where(t.discounts.c.code == code)
        .values(is_active=active, updated_at=uow.now(), revision=t.discounts.c.revision + 1)
    )
    if not done.rowcount:
        raise NotFound(f"no discount with code {code!r}")
    return _changed(uow, version, "discounts", 0, 1)


# -- coupons --------------------------------------------------------------------------------------
def import_coupons(
    uow: UnitOfWork, coupons: Iterable[CouponIn], *, where: str = "coupons"
) -> Change:
    """Create or update coupon codes; the count of uses is never reset by an import."""
    version = _begin(uow)
    coupons = list(coupons)
    stored = {r.code for r in uow.conn.execute(select(t.discounts.c.code))}
    errors = [
        FieldError(f"{where}[{i}].discount", f"unknown discount {c.discount!r}")
        for i, c in enumerate(coupons)
        if c.discount not in stored
    ]
    uses = {
        r.code: int(r.uses)
        for r in uow.conn.execute(
            select(t.coupons.c.code, t.coupons.c.uses).where(
                t.coupons.c.code.in_([c.code for c in coupons])
            )
        )
    }
    errors += [
        FieldError(
            f"{where}[{i}].max_uses",
            f"coupon {c.code} has been used {uses[c.code]} times; the limit cannot be lower",
        )
        for i, c in enumerate(coupons)
        if c.max_uses is not None and uses.get(c.code, 0) > c.max_uses
    ]
    _raise(errors)
    created = updated = 0
    now = uow.now()
    for c in coupons:
        values = {
            "discount_code": c.discount,
            "max_uses": c.max_uses,
            "max_uses_per_customer": c.max_uses_per_customer,
            "valid_from": c.valid_from,
            "valid_to": c.valid_to,
            "is_active": c.active,
        }
        done = uow.conn.execute(
            update(t.coupons).where(t.coupons.c.code == c.code).values(**values)
        )
        if done.rowcount:
            updated += 1
        else:
            uow.conn.execute(
                insert(t.coupons).values(code=c.code, uses=0, created_at=now, **values)
            )
            created += 1
    return _changed(uow, version, "coupons", created, updated)


# -- tax and channel settings ---------------------------------------------------------------------
def import_tax(uow: UnitOfWork, data: TaxData) -> Change:
    """Upsert tax rates, product tax groups and channel pricing settings."""
    version = _begin(uow)
    errors: list[FieldError] = []
    _check_codes(
        uow,
        "channel",
        {s.channel: f"channels[{i}].channel" for i, s in enumerate(data.channels)},
        errors,
    )
    _raise(errors)
    created = updated = 0
    r = t.tax_rates
    for rate in data.rates:
        key = and_(r.c.tax_group == rate.tax_group, r.c.jurisdiction == rate.jurisdiction)
        same_start = (
            r.c.valid_from.is_(None)
            if rate.valid_from is None
            else r.c.valid_from == rate.valid_from
        )
        done = uow.conn.execute(
            update(r).where(key, same_start).values(rate=rate.rate, valid_to=rate.valid_to)
        )
        if done.rowcount:
            updated += 1
        else:
            uow.conn.execute(
                insert(r).values(
                    id=new_id(),
                    tax_group=rate.tax_group,
                    jurisdiction=rate.jurisdiction,
                    rate=rate.rate,
                    valid_from=rate.valid_from,
                    valid_to=rate.valid_to,
                )
            )
            created += 1
    _refuse_overlaps(uow, data.rates)
    p = t.product_tax_groups
    for product, group in data.products:
        done = uow.conn.execute(
            update(p).where(p.c.product_code == product).values(tax_group=group)
        )
        if done.rowcount:
            updated += 1
        else:
            uow.conn.execute(insert(p).values(product_code=product, tax_group=group))
            created += 1
    s = t.channel_settings
    for c in data.channels:
        values = {
            "tax_rounding": c.tax_rounding.value,
            "compound_across_priorities": c.compound_across_priorities,
            "default_tax_group": c.default_tax_group,
        }
        done = uow.conn.execute(update(s).where(s.c.channel_code == c.channel).values(**values))
        if done.rowcount:
            updated += 1
        else:
            uow.conn.execute(insert(s).values(channel_code=c.channel, **values))
            created += 1
    return _changed(uow, version, "tax", created, updated)
