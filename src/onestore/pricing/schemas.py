"""What the pricing routes take and give over HTTP, besides the documents the parsers read.

Request bodies are pricing documents (basket, discount, prices, coupons, tax), read by the
context's own parsers (``basket``, ``definitions``, ``price_files``, ``settings_files``) so the
API, the import files and the CLI accept exactly the same thing with the same field names in
their errors; the models here only describe the answers in the OpenAPI document. The price
check page's query string is read by :class:`PriceCheckForm`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel

from onestore.kernel.errors import FieldError

# -- answers (OpenAPI only: the routes send priced_to_json / Change.as_json as they are) ---------


class MoneyOut(BaseModel):
    amount: str
    currency: str


class AppliedDiscountOut(BaseModel):
    code: str
    name: str
    kind: str
    concurrency: str
    priority: int
    quantity: str
    amount: MoneyOut


class ConsideredOut(BaseModel):
    """A discount that was about the line but gave it nothing, and why."""

    code: str
    reason: str
    why: Literal["scope", "coupon", "short", "priority", "exclusive", "beaten"]


class PricedLineOut(BaseModel):
    line_id: str
    sku: str
    quantity: str
    unit_price: MoneyOut
    price_source: str
    gross: MoneyOut
    discounts: list[AppliedDiscountOut]
    discount_total: MoneyOut
    net: MoneyOut
    tax_group: str | None
    tax_rate: str | None
    tax: MoneyOut
    considered: list[ConsideredOut]


class SearchOut(BaseModel):
    states: int
    exact: bool
    exhaustive: bool


class PricedBasketOut(BaseModel):
    currency: str
    version: int
    prices_include_tax: bool
    subtotal: MoneyOut
    discount_total: MoneyOut
    tax_total: MoneyOut
    total: MoneyOut
    search: SearchOut
    lines: list[PricedLineOut]


class VersionOut(BaseModel):
    version: int


class ChangeOut(BaseModel):
    """What a write did and the pricing data version after it."""

    version: int
    created: int
    updated: int


class DiscountOut(BaseModel):
    code: str
    name: str
    kind: str
    concurrency: str
    priority: int
    is_active: bool
    revision: int
    created_at: str
    updated_at: str
    definition: dict[str, Any]


class DiscountChangeOut(ChangeOut):
    discount: DiscountOut


# -- the price check page -------------------------------------------------------------------------
CHECK_ROWS = 10
MAX_TEXT = 200
_SEPARATORS = re.compile(r"[,;\s]+")


def codes_in(text: str) -> list[str]:
    """Codes typed into one box, separated by commas, semicolons or spaces."""
    return [c for c in _SEPARATORS.split(text.strip()) if c]


@dataclass(frozen=True, slots=True)
class CheckRow:
    number: int  # 1-based, as the page shows it
    sku: str
    quantity: str


@dataclass(frozen=True, slots=True)
class PriceCheckForm:
    """The price check form as typed: every box's text, ready to be shown again."""

    channel: str = ""
    store: str = ""
    groups: str = ""
    tier: str = ""
    coupons: str = ""
    at: str = ""
    rows: tuple[CheckRow, ...] = field(default_factory=tuple)

    @classmethod
    def read(
        cls,
        *,
        channel: str,
        store: str,
        groups: str,
        tier: str,
        coupons: str,
        at: str,
        skus: list[str],
        quantities: list[str],
    ) -> PriceCheckForm:
        def clean(text: str) -> str:
            return text.strip()[:MAX_TEXT]

        rows = []
        for n in range(CHECK_ROWS):
            sku = clean(skus[n]) if n < len(skus) else ""
            quantity = clean(quantities[n]) if n < len(quantities) else ""
            rows.append(CheckRow(n + 1, sku, quantity))
        return cls(
            clean(channel),
            clean(store),
            clean(groups),
            clean(tier),
            clean(coupons),
            clean(at),
            tuple(rows),
        )

    @property
    def submitted(self) -> bool:
        return any(row.sku for row in self.rows)

    def basket(self) -> tuple[dict[str, Any], list[int]]:
        """The basket document for ``parse_basket`` and, for each of its lines, the form row
        it came from (blank rows are left out; a row without a quantity means one)."""
        doc: dict[str, Any] = {"channel": self.channel}
        if self.store:
            doc["store"] = self.store
        if self.groups:
            doc["customer_groups"] = codes_in(self.groups)
        if self.tier:
            doc["loyalty_tier"] = self.tier
        if self.coupons:
            doc["coupons"] = codes_in(self.coupons)
        if self.at:
            doc["at"] = self.at
        used = [row for row in self.rows if row.sku]
        doc["lines"] = [
            {"line_id": str(row.number), "sku": row.sku, "quantity": row.quantity or "1"}
            for row in used
        ]
        return doc, [row.number for row in used]


_LINE_FIELD = re.compile(r"lines\[(\d+)\](?:\.(\w+))?")
_LABELS = {
    "channel": "Channel",
    "store": "Store",
    "customer_groups": "Customer groups",
    "loyalty_tier": "Loyalty tier",
    "coupons": "Coupons",
    "at": "Date and time",
    "lines": "Lines",
}


@dataclass(frozen=True, slots=True)
class CheckProblem:
    """One refusal, worded for the page: which box (or line) and why."""

    label: str
    reason: str
    row: int | None = None  # the form row it is about, if any


def check_problems(errors: list[FieldError], rows: list[int]) -> list[CheckProblem]:
    """The basket's field errors (``lines[2].sku``, ``coupons[0]``) as the page names them."""
    found = []
    for error in errors:
        match = _LINE_FIELD.fullmatch(error.field)
        if match is not None:
            index = int(match.group(1))
            row = rows[index] if index < len(rows) else None
            part = {"sku": "SKU", "quantity": "quantity"}.get(match.group(2) or "", "")
            label = f"Line {row if row is not None else index + 1}" + (f" · {part}" if part else "")
            found.append(CheckProblem(label, error.reason, row))
            continue
        head = error.field.split("[", 1)[0].split(".", 1)[0]
        found.append(CheckProblem(_LABELS.get(head, error.field or "Basket"), error.reason))
    return found
