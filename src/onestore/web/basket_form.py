"""A basket carried in a page's address: lines as ``sku``/``qty`` pairs, plus coupon codes.

The till and the cart pages keep the basket in the URL: every change (a scan, a quantity, a
removal) is a new GET (a manual price at the till is recorded by a POST, then its id rides on
the line), the page can be reloaded or bookmarked, and pricing a basket writes
nothing (tender and the order come with the order and POS work). These helpers read the pairs,
add an item the way a till does (the same SKU again raises its quantity), and build the
basket document the pricing service parses, so both pages name problems by line the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlencode

from fastapi.responses import RedirectResponse

from onestore.db.database import Database
from onestore.kernel.errors import FieldError, ValidationFailed
from onestore.pricing.basket import parse_basket
from onestore.pricing.model import PricedBasket
from onestore.pricing.schemas import CheckProblem, check_problems
from onestore.pricing.service import price_basket

MAX_LINES = 200
"""A page basket holds at most this many lines (a big grocery receipt, a shopper's cart)."""
MAX_TEXT = 64
MAX_QUANTITY_TEXT = 20
FULL = f"The basket holds at most {MAX_LINES} lines: finish this one and start another."


@dataclass(frozen=True, slots=True)
class FormLine:
    sku: str
    quantity: str  # as typed: the pricing service says what is wrong with it
    override: str = ""  # the id of a manual price recorded at the till, if any

    def as_query(self) -> list[tuple[str, str]]:
        return [("sku", self.sku), ("qty", self.quantity), ("ovr", self.override)]


def read_lines(
    skus: list[str], quantities: list[str], overrides: list[str] | None = None
) -> list[FormLine]:
    """The lines as sent (``sku``, ``qty`` and, at the till, ``ovr`` side by side), blank SKUs
    left out, each text trimmed and capped."""
    overrides = overrides or []
    lines = []
    for n, raw in enumerate(skus[:MAX_LINES]):
        sku = raw.strip()[:MAX_TEXT]
        if sku:
            typed = quantities[n].strip()[:MAX_QUANTITY_TEXT] if n < len(quantities) else ""
            override = overrides[n].strip()[:MAX_TEXT] if n < len(overrides) else ""
            lines.append(FormLine(sku, typed or "1", override))
    return lines


_MERGE_LIMIT = Decimal(1_000_000)


def _number(text: str) -> Decimal | None:
    """A quantity worth adding to: a plain number below a million (anything else is left as
    typed for the pricing service to refuse, naming the line)."""
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    return value if value.is_finite() and abs(value) < _MERGE_LIMIT else None


def add_item(lines: list[FormLine], sku: str, quantity: str) -> list[FormLine] | None:
    """``lines`` with ``quantity`` more of ``sku``: added to its line when it has one and both
    quantities are numbers (scanning a second shirt makes 2), else a new line at the end —
    or ``None`` when the basket already has :data:`MAX_LINES` lines (say :data:`FULL`)."""
    out = list(lines)
    quantity = quantity[:MAX_QUANTITY_TEXT]
    more = _number(quantity)
    for n, line in enumerate(out):
        have = _number(line.quantity)
        if line.sku == sku and not line.override and have is not None and more is not None:
            out[n] = FormLine(sku, format((have + more).normalize(), "f"))
            return out
    if len(out) >= MAX_LINES:
        return None
    out.append(FormLine(sku, quantity))
    return out


def without(lines: list[FormLine], index: str) -> list[FormLine]:
    """``lines`` without the one at 1-based position ``index`` (unchanged if there is none)."""
    if not (index.isascii() and index.isdigit() and len(index) <= 4):
        return lines
    drop = int(index) - 1
    return [line for n, line in enumerate(lines) if n != drop]


def with_override(lines: list[FormLine], index: int, override: str) -> list[FormLine]:
    """``lines`` with the manual price ``override`` on the line at 1-based ``index``."""
    return [
        FormLine(line.sku, line.quantity, override) if n == index - 1 else line
        for n, line in enumerate(lines)
    ]


def query(lines: list[FormLine], **more: str) -> str:
    """The address query for ``lines`` and the other (non-empty) fields; a line's ``ovr`` is
    sent only when some line has one (the cart never does)."""
    overridden = any(line.override for line in lines)
    pairs = [pair for line in lines for pair in line.as_query() if overridden or pair[0] != "ovr"]
    pairs += [(k, v) for k, v in more.items() if v]
    return urlencode(pairs)


def redirect(path: str, lines: list[FormLine], coupons: str) -> RedirectResponse:
    """303 to ``path`` with the basket in its query: after a change, so that reloading the
    page does not make it again."""
    found = query(lines, coupons=coupons)
    return RedirectResponse(f"{path}?{found}" if found else path, status_code=303)


def price(
    db: Database,
    doc: dict[str, Any],
    count: int,
    reword: Callable[[FieldError], FieldError] = lambda error: error,
) -> tuple[PricedBasket | None, list[CheckProblem]]:
    """Price a :func:`basket_document` of ``count`` lines through the pricing service: the
    priced basket, or its refusals named by box and line (each passed through ``reword``).
    An empty basket is neither: there is nothing to price."""
    if not count:
        return None, []
    try:
        return price_basket(db, parse_basket(doc)), []
    except ValidationFailed as exc:
        errors = [reword(e) for e in exc.errors or [FieldError("", exc.detail)]]
        return None, check_problems(errors, list(range(1, count + 1)))


def basket_document(
    channel: str, lines: list[FormLine], *, store: str | None = None, coupons: Sequence[str] = ()
) -> dict[str, Any]:
    """What ``pricing.basket.parse_basket`` reads; line ids are the 1-based positions."""
    doc: dict[str, Any] = {
        "channel": channel,
        "lines": [
            {"line_id": str(n), "sku": line.sku, "quantity": line.quantity}
            | ({"override": line.override} if line.override else {})
            for n, line in enumerate(lines, start=1)
        ],
    }
    if store:
        doc["store"] = store
    if coupons:
        doc["coupons"] = list(coupons)
    return doc
