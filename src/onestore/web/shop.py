"""The shopper's cart: the web (or app) channel prices it and says what the shopper saves.

``/shop/{channel}/cart`` is open to anyone, as a storefront's cart is: add an item by SKU,
change quantities, remove lines, enter coupon codes. It is priced by the same service as the
till and the API, and explained for a shopper: the discounts by name with what they save, and
the offers within reach ("needs 3 units; the basket has 2") — never what exists for other
channels, stores, customer groups or behind a coupon code (``pricing.service.SHOPPER_HIDDEN``),
and never customer groups or a loyalty tier claimed in the address: those come from the
signed-in customer's account once customer profiles exist. Only active web and app channels
have a cart. The cart lives in the address (``basket_form``); checkout comes with orders.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from onestore.api.security import get_db, public
from onestore.api.strict_json import StrictJSONRoute
from onestore.catalog import queries as catalog
from onestore.catalog import reference
from onestore.catalog.views import ChannelView
from onestore.kernel.errors import FieldError, NotFound
from onestore.pricing.model import Why
from onestore.pricing.schemas import codes_in
from onestore.pricing.views import discount_names
from onestore.web import basket_form as form
from onestore.web.backoffice import MAX_QUERY
from onestore.web.rendering import render

router = APIRouter(prefix="/shop", route_class=StrictJSONRoute, include_in_schema=False)
CART_KINDS = frozenset({"web", "mobile"})


def _channel_or_404(request: Request, code: str) -> ChannelView:
    with get_db(request).uow(readonly=True) as uow:
        found = next((c for c in reference.list_channels(uow) if c.code == code), None)
    if found is None or not found.is_active or found.kind not in CART_KINDS:
        raise NotFound(f"there is no shop {code!r}")
    return found


NO_SUCH_CODE = "this code cannot be used for this cart"


def _shopper_error(error: FieldError) -> FieldError:
    """A coupon's refusal in one wording whatever the reason: "used up", "expired" or "for
    another channel" would tell an anonymous visitor which guessed codes exist."""
    if error.field.startswith("coupons"):
        return FieldError(error.field, NO_SUCH_CODE)
    return error


@router.get("/{channel}/cart", dependencies=[Depends(public)])
def cart(
    request: Request,
    channel: str,
    sku: list[str] = Query([]),
    qty: list[str] = Query([]),
    coupons: str = "",
    add: str = "",
    add_qty: str = "",
    remove: str = "",
) -> Response:
    """The cart (see the module doc). Adding or removing answers with a redirect to the
    cart's new address, so reloading never adds an item twice."""
    shop = _channel_or_404(request, channel)
    lines = form.read_lines(sku, qty)
    coupon_text = coupons.strip()[:MAX_QUERY]
    item = add.strip()[: form.MAX_TEXT]
    full = False
    if item or remove:
        if item:
            more = form.add_item(lines, item, add_qty.strip() or "1")
            full = more is None
            lines = lines if more is None else more
        if remove:
            lines = form.without(lines, remove)
    if (item or remove) and not full:
        return form.redirect(f"/shop/{quote(shop.code, safe='')}/cart", lines, coupon_text)
    db = get_db(request)
    doc = form.basket_document(shop.code, lines, coupons=codes_in(coupon_text))
    priced, problems = form.price(db, doc, len(lines), _shopper_error)
    within_reach: dict[str, str] = {}  # code -> the engine's words, once per basket
    if priced is not None:
        for p in priced.lines:
            for c in p.considered:
                if c.why is Why.SHORT:  # never one of SHOPPER_HIDDEN
                    within_reach.setdefault(c.code, c.reason)
    with db.uow(readonly=True) as uow:
        labels = catalog.sku_labels(uow, [line.sku for line in lines])
        names = discount_names(uow, within_reach)
    hints = [(names.get(code, code), reason) for code, reason in sorted(within_reach.items())]
    return render(
        request,
        "shop/cart.html",
        {
            "shop": shop,
            "lines": lines,
            "labels": labels,
            "coupons": coupon_text,
            "priced": priced,
            "hints": hints,  # (discount name, what it needs)
            "problems": problems,
            "full": form.FULL if full else "",
            "address": lambda **more: form.query(lines, coupons=coupon_text, **more),
        },
        status_code=422 if problems else 200,
    )
