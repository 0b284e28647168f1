"""The demo retailer's prices, promotions and tax, written through the pricing imports.

Enough to see every part of the engine from the back office's price check page or
``onestore price``: a members' price group, a simple and a compounded discount, a 3-for-2, a
shirt-and-tie style two-group set, tiered quantity, buy N for X, a spend-and-save threshold, a
happy hour and a coupon, plus Washington's sales tax (every demo location is in Washington) and
channel tax settings. Codes are fixed so the docs and tests can name them.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from onestore.db.uow import UnitOfWork
from onestore.pricing import writes
from onestore.pricing.price_files import parse_prices_json
from onestore.pricing.settings_files import parse_discounts_file, parse_tax

TAX_RATE = "6.5"  # Washington state sales tax; local rates left out of the demo


def _discounts() -> list[dict[str, Any]]:
    usd = {"currency": "USD"}
    return [
        {"code": "FASHION10", "name": "10% off fashion", "kind": "simple",
         "concurrency": "best_price", "items": {"categories": ["fashion"]},
         "method": "percent", "value": "10"},
        {"code": "MEMBERS5", "name": "Members: 5% more", "kind": "simple",
         "concurrency": "compounded", "scope": {"loyalty_tiers": ["gold"]},
         "method": "percent", "value": "5"},
        {"code": "ACCESS3FOR2", "name": "Accessories: 3 for 2", "kind": "mix_match",
         "concurrency": "exclusive", "priority": 10,
         "groups": [{"name": "any", "quantity": 3,
                     "items": {"categories": ["fashion-accessories"]}}],
         "method": "least_expensive_free"},
        {"code": "OUTFIT", "name": "Shoes + accessory: 20% off both", "kind": "mix_match",
         "concurrency": "best_price",
         "groups": [{"name": "shoes", "quantity": 1, "items": {"categories": ["fashion-shoes"]}},
                    {"name": "accessory", "quantity": 1,
                     "items": {"categories": ["fashion-accessories"]}}],
         "method": "percent", "value": "20"},
        {"code": "BEDDING-TIERS", "name": "Bedding: 10% off 2, 20% off 4", "kind": "quantity",
         "concurrency": "best_price", "items": {"categories": ["home-bedding"]},
         "tiers": [{"min_quantity": "2", "method": "percent", "value": "10"},
                   {"min_quantity": "4", "method": "percent", "value": "20"}]},
        {"code": "KITCHEN-3FOR", "name": "Kitchen: any 3 for 50.00", "kind": "quantity",
         "concurrency": "best_price", **usd, "items": {"categories": ["home-kitchen"]},
         "deal": {"quantity": 3, "price": "50.00"}},
        {"code": "SPEND150", "name": "Spend 150, save 15", "kind": "threshold",
         "concurrency": "compounded", **usd,
         "tiers": [{"min_amount": "150.00", "method": "amount", "value": "15.00"},
                   {"min_amount": "300.00", "method": "amount", "value": "40.00"}]},
        {"code": "HAPPY-HOUR", "name": "Home happy hour: 15% off 17:00-19:00", "kind": "simple",
         "concurrency": "best_price", "items": {"categories": ["home"]},
         "scope": {"start_time": "17:00", "end_time": "19:00"},
         "method": "percent", "value": "15"},
        {"code": "WELCOME", "name": "Welcome: 10.00 off 50", "kind": "threshold",
         "concurrency": "compounded", **usd, "coupon_required": True,
         "tiers": [{"min_amount": "50.00", "method": "amount", "value": "10.00"}]},
    ]  # fmt: skip


def load_pricing(uow: UnitOfWork, document: dict[str, Any]) -> dict[str, int]:
    """Import the demo's pricing data for the generated catalog ``document``."""
    channels = [c["code"] for c in document.get("channels", [])]
    variants = [v for p in document.get("products", []) for v in p.get("variants", [])]
    members = [
        {"group": "MEMBERS", "sku": v["sku"], "currency": v["currency"],
         "amount": _members_price(v["list_price"])}
        for v in variants[::10]
    ]  # fmt: skip
    prices = parse_prices_json(
        {
            "format": "onestore.prices/1",
            "price_groups": [
                {"code": "MEMBERS", "name": "Members' prices", "loyalty_tiers": ["gold", "silver"]}
            ],
            "prices": members,
        }
    )
    writes.import_prices(uow, prices)
    discounts, coupons = parse_discounts_file(
        {
            "format": "onestore.discounts/1",
            "discounts": _discounts(),
            "coupons": [{"code": "WELCOME10", "discount": "WELCOME", "max_uses_per_customer": 1}],
        }
    )
    writes.import_discounts(uow, discounts)
    writes.import_coupons(uow, coupons)
    tax = parse_tax(
        {
            "format": "onestore.tax/1",
            "rates": [{"tax_group": "standard", "jurisdiction": "US-WA", "rate": TAX_RATE}],
            "channels": [{"channel": code, "default_tax_group": "standard"} for code in channels],
        }
    )
    writes.import_tax(uow, tax)
    return {"prices": len(members), "discounts": len(discounts), "coupons": len(coupons)}


def _members_price(list_price: str) -> str:
    """Members pay 8 % less on every tenth variant, to the cent."""
    return str((Decimal(list_price) * Decimal("0.92")).quantize(Decimal("0.01"), ROUND_HALF_UP))
