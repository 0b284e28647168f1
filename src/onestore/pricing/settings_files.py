"""Coupon and tax documents: what ``onestore import discounts`` and ``import tax`` read besides
discount definitions, every error naming its field. Pure.

Coupons ride in the discounts file, beside the discounts they unlock::

    {"format": "onestore.discounts/1",
     "discounts": [...],
     "coupons": [{"code": "WELCOME10", "discount": "WELCOME", "max_uses": 1000,
                  "max_uses_per_customer": 1, "valid_from": "2026-12-01",
                  "valid_to": "2026-12-31", "active": true}]}

``max_uses`` 1 is a single-use code; absent limits mean unlimited. Codes are matched case-blind
and stored upper case.

Tax::

    {"format": "onestore.tax/1",
     "rates": [{"tax_group": "standard", "jurisdiction": "FR", "rate": "20",
                "valid_from": null, "valid_to": null}],
     "products": [{"product": "TS-001", "tax_group": "standard"}],
     "channels": [{"channel": "WEB", "tax_rounding": "line" | "document",
                   "compound_across_priorities": false, "default_tax_group": "standard"}]}

A rate is a percent (``"20"`` is 20 %), at least 0 and under 100, with at most four decimal
places; a jurisdiction is a country (``FR``) or a country and subdivision (``US-CA``); a tax
group code has at most 32 characters. Two rates of one group and jurisdiction may not be in
force on the same day (which one a customer paid would depend on load order): the file is
refused naming the later one, here and, against the rates already stored, at import.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from onestore.kernel.errors import ValidationFailed
from onestore.pricing.definitions import parse_discount
from onestore.pricing.doc_fields import Fields, Problems, as_fields
from onestore.pricing.model import Discount, TaxRate, TaxRounding
from onestore.pricing.tax import overlap_reason, overlapping

TAX_FORMAT = "onestore.tax/1"
DISCOUNTS_FORMAT = "onestore.discounts/1"
_JURISDICTION = re.compile(r"[A-Z]{2}(-[A-Z0-9]{1,3})?")
TAX_GROUP_LENGTH = 32
"""Tax group codes are stored in 32 characters (``pricing_tax_rates.tax_group``)."""
RATE_DECIMALS = 4
"""Rates are stored as NUMERIC(7, 4): a fifth decimal would be rounded away unseen."""


def _decimals(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


@dataclass(frozen=True, slots=True)
class CouponIn:
    code: str
    discount: str
    max_uses: int | None = None
    max_uses_per_customer: int | None = None
    valid_from: date | None = None
    valid_to: date | None = None
    active: bool = True


@dataclass(frozen=True, slots=True)
class ChannelSettingsIn:
    channel: str
    tax_rounding: TaxRounding = TaxRounding.LINE
    compound_across_priorities: bool = False
    default_tax_group: str | None = None


@dataclass(frozen=True, slots=True)
class TaxData:
    rates: tuple[TaxRate, ...] = ()
    products: tuple[tuple[str, str], ...] = ()  # (product code, tax group)
    channels: tuple[ChannelSettingsIn, ...] = ()


def _document(doc: object, expected: str, keys: tuple[str, ...]) -> tuple[Fields, Problems]:
    problems = Problems()
    fields = as_fields(doc, "", problems)
    if fields is None:
        problems.raise_if_any()
        raise AssertionError("unreachable")  # pragma: no cover
    fields.check_format(expected)
    fields.check_keys(keys)
    return fields, problems


def parse_discounts_file(doc: object) -> tuple[list[Discount], list[CouponIn]]:
    """A discounts file: its discounts (unique codes) and the coupons beside them."""
    fields, problems = _document(doc, DISCOUNTS_FORMAT, ("format", "discounts", "coupons"))
    discounts: list[Discount] = []
    seen: dict[str, str] = {}
    for path, raw in fields.elements("discounts", required=False):
        try:
            discount = parse_discount(raw, path)
        except ValidationFailed as exc:  # keep collecting: report every discount's problems
            problems.absorb(exc)
            continue
        if discount.code in seen:
            problems.add(f"{path}.code", f"duplicate of {seen[discount.code]}")
        seen[discount.code] = path
        discounts.append(discount)
    coupons = _coupons(fields, {d.code for d in discounts})
    problems.raise_if_any()
    return discounts, coupons


def _coupons(fields: Fields, _discounts: set[str]) -> list[CouponIn]:
    coupons: list[CouponIn] = []
    seen: set[str] = set()
    for path, raw in fields.elements("coupons", required=False):
        item = as_fields(raw, path, fields.problems)
        if item is None:
            continue
        item.check_keys(
            (
                "code",
                "discount",
                "max_uses",
                "max_uses_per_customer",
                "valid_from",
                "valid_to",
                "active",
            )
        )
        code = item.code("code")
        discount = item.code("discount")
        max_uses = item.integer("max_uses", low=1)
        per_customer = item.integer("max_uses_per_customer", low=1)
        valid_from, valid_to = item.day("valid_from"), item.day("valid_to")
        if valid_from and valid_to and valid_to < valid_from:
            item.error("valid_to", "is before valid_from")
        if code is not None:
            if code.upper() in seen:
                item.error("code", f"coupon {code.upper()} is listed twice (codes are case-blind)")
            seen.add(code.upper())
        if code is not None and discount is not None:
            coupons.append(
                CouponIn(
                    code.upper(),
                    discount,
                    max_uses,
                    per_customer,
                    valid_from,
                    valid_to,
                    item.flag("active", default=True),
                )
            )
    return coupons


def parse_tax(doc: object) -> TaxData:
    fields, problems = _document(doc, TAX_FORMAT, ("format", "rates", "products", "channels"))
    placed = [(p, r) for p, f in _objects(fields, "rates") if (r := _rate(f, p)) is not None]
    rates = [r for _, r in placed]
    products: list[tuple[str, str]] = []
    for _, item in _objects(fields, "products"):
        item.check_keys(("product", "tax_group"))
        product = item.code("product")
        group = item.code("tax_group", max_length=TAX_GROUP_LENGTH)
        if product is not None and group is not None:
            products.append((product, group))
    channels: list[ChannelSettingsIn] = []
    for _, item in _objects(fields, "channels"):
        item.check_keys(
            ("channel", "tax_rounding", "compound_across_priorities", "default_tax_group")
        )
        channel = item.code("channel")
        rounding = (
            item.choice("tax_rounding", TaxRounding)
            if item.given("tax_rounding")
            else TaxRounding.LINE
        )
        if channel is not None and rounding is not None:
            channels.append(
                ChannelSettingsIn(
                    channel,
                    rounding,
                    item.flag("compound_across_priorities"),
                    item.code("default_tax_group", required=False, max_length=TAX_GROUP_LENGTH),
                )
            )
    clash = overlapping(rates)
    if clash is not None:
        later, earlier = clash
        path = {id(r): p for p, r in placed}  # by identity: two equal rates are two entries
        problems.add(
            path[id(later)], f"overlaps {path[id(earlier)]}: {overlap_reason(later, earlier)}"
        )
    problems.raise_if_any()
    return TaxData(tuple(rates), tuple(products), tuple(channels))


def _objects(fields: Fields, key: str) -> list[tuple[str, Fields]]:
    found = []
    for path, raw in fields.elements(key, required=False):
        item = as_fields(raw, path, fields.problems)
        if item is not None:
            found.append((path, item))
    return found


def _rate(item: Fields, _path: str) -> TaxRate | None:
    item.check_keys(("tax_group", "jurisdiction", "rate", "valid_from", "valid_to"))
    group = item.code("tax_group", max_length=TAX_GROUP_LENGTH)
    where: Any = item.raw.get("jurisdiction")
    if not isinstance(where, str) or not _JURISDICTION.fullmatch(where.strip().upper()):
        item.error("jurisdiction", "must be a country (FR) or country-subdivision (US-CA) code")
        where = None
    rate = item.number("rate")
    if rate is not None and not (0 <= rate < 100):
        item.error("rate", "must be a percent from 0 up to (not including) 100")
        rate = None
    elif rate is not None and _decimals(rate) > RATE_DECIMALS:
        item.error("rate", f"may have at most {RATE_DECIMALS} decimal places")
        rate = None
    valid_from, valid_to = item.day("valid_from"), item.day("valid_to")
    if valid_from and valid_to and valid_to < valid_from:
        item.error("valid_to", "is before valid_from")
    if group is None or where is None or rate is None:
        return None
    return TaxRate(group, where.strip().upper(), rate, valid_from, valid_to)
