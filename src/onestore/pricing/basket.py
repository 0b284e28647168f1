"""The basket to price, as a document (API body, ``onestore price BASKET.json``).

::

    {"channel": "WEB",                       # required: the channel's code
     "store": "S001",                        # optional: the store selling (POS) or serving
     "customer_groups": ["staff"],           # optional affiliations
     "loyalty_tier": "gold",                 # optional
     "customer": "C-1001",                   # optional: for per-customer coupon limits
     "coupons": ["WELCOME10"],               # optional coupon codes (case-blind)
     "at": "2026-12-05T17:30:00",            # optional local time of the sale; default now
     "ship_to": {"country": "US", "region": "CA"},   # optional: taxed where delivered
     "lines": [{"sku": "TS-BLK-M", "quantity": "2", "line_id": "1",
                "override": "01J…"}, ...]}       # override: a recorded manual price (POS)

Quantities are decimal strings or whole numbers; a line's quantity must be more than 0 and whole
unless the product's unit is sold in fractions. ``line_id`` defaults to the line's position.
Pure: checks the shape; the service checks SKUs, channel and store against the catalog.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from onestore.pricing.doc_fields import Fields, Problems, as_fields

MAX_LINES = 500
MAX_QUANTITY = Decimal(1_000_000)


@dataclass(frozen=True, slots=True)
class BasketLineIn:
    line_id: str
    sku: str
    quantity: Decimal
    override: str | None = None  # id of a recorded manual price override (POS)


@dataclass(frozen=True, slots=True)
class BasketIn:
    channel: str
    lines: tuple[BasketLineIn, ...]
    store: str | None = None
    customer_groups: frozenset[str] = frozenset()
    loyalty_tier: str | None = None
    customer: str | None = None
    coupons: tuple[str, ...] = ()
    at: datetime | None = None
    ship_to: tuple[str, str | None] | None = None  # (country, region)


KEYS = (
    "channel",
    "store",
    "customer_groups",
    "loyalty_tier",
    "customer",
    "coupons",
    "at",
    "ship_to",
    "lines",
)


def parse_basket(doc: object) -> BasketIn:
    """Read a basket document, reporting every problem at once with its field."""
    problems = Problems()
    fields = as_fields(doc, "", problems)
    if fields is None:
        problems.raise_if_any()
        raise AssertionError("unreachable")  # pragma: no cover
    fields.check_keys(KEYS)
    channel = fields.code("channel")
    store = fields.code("store", required=False)
    groups = fields.codes("customer_groups")
    tier = fields.code("loyalty_tier", required=False)
    customer = fields.code("customer", required=False)
    coupons = _coupons(fields)
    at = _moment(fields)
    ship_to = _ship_to(fields)
    lines = _lines(fields)
    problems.raise_if_any()
    assert channel is not None
    return BasketIn(channel, lines, store, groups, tier, customer, coupons, at, ship_to)


def _coupons(fields: Fields) -> tuple[str, ...]:
    found: list[str] = []
    for path, raw in fields.elements("coupons", required=False):
        if not isinstance(raw, str) or not raw.strip() or len(raw.strip()) > 64:
            fields.problems.add(path, "must be a coupon code (1-64 characters)")
        elif raw.strip().upper() in found:
            fields.problems.add(path, f"coupon {raw.strip()!r} is given twice")
        else:
            found.append(raw.strip().upper())
    return tuple(found)


def _moment(fields: Fields) -> datetime | None:
    if not fields.given("at"):
        return None
    raw = fields.raw["at"]
    if isinstance(raw, str):
        try:
            return datetime.fromisoformat(raw.strip())
        except ValueError:
            pass
    fields.error("at", f"{raw!r} is not a date and time; use YYYY-MM-DDTHH:MM[:SS]")
    return None


def _ship_to(fields: Fields) -> tuple[str, str | None] | None:
    child = fields.child("ship_to")
    if child is None:
        return None
    child.check_keys(("country", "region"))
    country = child.raw.get("country")
    region = child.raw.get("region")
    if not isinstance(country, str) or len(country.strip()) != 2 or not country.strip().isalpha():
        child.error("country", "must be a two-letter ISO 3166 country code")
        return None
    if region is not None and (not isinstance(region, str) or not 1 <= len(region.strip()) <= 3):
        child.error("region", "must be an ISO 3166-2 subdivision code such as CA")
        return None
    return country.strip().upper(), region.strip().upper() if region else None


def _lines(fields: Fields) -> tuple[BasketLineIn, ...]:
    lines: list[BasketLineIn] = []
    seen: set[str] = set()
    for n, (path, raw) in enumerate(fields.elements("lines", non_empty=True)):
        if n >= MAX_LINES:
            fields.problems.add(path, f"a basket holds at most {MAX_LINES} lines")
            break
        line = as_fields(raw, path, fields.problems)
        if line is None:
            continue
        line.check_keys(("sku", "quantity", "line_id", "override"))
        sku = line.code("sku")
        quantity = line.number("quantity")
        if quantity is not None and quantity <= 0:
            line.error("quantity", "must be more than 0")
            quantity = None
        elif quantity is not None and quantity > MAX_QUANTITY:
            line.error("quantity", f"must be at most {MAX_QUANTITY}")
            quantity = None
        line_id = str(line.raw.get("line_id", n + 1))
        if line_id in seen:
            line.error("line_id", f"line id {line_id!r} is used twice")
        seen.add(line_id)
        override = line.code("override", required=False)
        if sku is not None and quantity is not None:
            lines.append(BasketLineIn(line_id, sku, quantity, override))
    return tuple(lines)
