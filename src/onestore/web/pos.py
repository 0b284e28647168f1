"""The till: a store associate rings up a basket and sees how every line's price came about.

``/pos`` lists the store channels the associate may sell for (their store-scoped grants);
``/pos/{channel}`` is the sale screen: scan or type a barcode or SKU (the same item again raises
its quantity, as at a till), change quantities, remove lines, enter coupon codes, and read the
priced basket — each line's price and source, the discounts applied with amounts, and every
discount that was about the line but gave nothing, with the reason (the engine's explanation,
unfiltered: the associate answers the customer's "why not?"). The basket lives in the address
(``basket_form``); tender and completing the sale come with the order and POS work.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response

from onestore.api.security import get_db, require
from onestore.api.strict_json import StrictJSONRoute
from onestore.auth.model import Permission, Principal, permitted
from onestore.catalog import queries as catalog
from onestore.catalog import reference
from onestore.catalog.views import ChannelView, LocationView
from onestore.kernel.errors import FieldError, NotFound, PermissionDenied, ValidationFailed
from onestore.pricing.basket import parse_basket
from onestore.pricing.schemas import CheckProblem, check_problems, codes_in
from onestore.pricing.service import price_basket
from onestore.pricing.views import discount_names
from onestore.web import basket_form as form
from onestore.web.backoffice import MAX_QUERY
from onestore.web.rendering import render
from onestore.web.stock import find_variant

router = APIRouter(prefix="/pos", route_class=StrictJSONRoute, include_in_schema=False)
QUOTE = Depends(require(Permission.PRICING_QUOTE))


def tills(
    principal: Principal, channels: list[ChannelView], stores: list[LocationView]
) -> list[tuple[ChannelView, LocationView]]:
    """Active store channels at active stores where ``principal`` may price a sale."""
    by_code = {s.code: s for s in stores if s.is_active}
    found = []
    for c in channels:
        store = by_code.get(c.location or "")
        if (
            c.is_active
            and c.kind == "store"
            and store is not None
            and permitted(principal, Permission.PRICING_QUOTE, store.id)
        ):
            found.append((c, store))
    return sorted(found, key=lambda pair: pair[1].name)


@router.get("", dependencies=[QUOTE])
def choose(request: Request, principal: Principal = QUOTE) -> Response:
    """The stores this associate sells for; with just one, its till straight away."""
    with get_db(request).uow(readonly=True) as uow:
        mine = tills(principal, reference.list_channels(uow), reference.list_locations(uow))
    if len(mine) == 1:
        return RedirectResponse(f"/pos/{mine[0][0].code}", status_code=303)
    return render(request, "pos/choose.html", {"section": "pos", "tills": mine})


@router.get("/{channel}", dependencies=[QUOTE])
def sale(
    request: Request,
    channel: str,
    sku: list[str] = Query([]),
    qty: list[str] = Query([]),
    coupons: str = "",
    scan: str = "",
    scan_qty: str = "",
    remove: str = "",
    principal: Principal = QUOTE,
) -> Response:
    """The sale screen (see the module doc). A scan or a removal answers with a redirect to
    the basket's new address, so reloading the page never rings an item up twice."""
    db = get_db(request)
    lines = form.read_lines(sku, qty)
    coupon_text = coupons.strip()[:MAX_QUERY]
    scanned = scan.strip()[:MAX_QUERY]
    with db.uow(readonly=True) as uow:
        channels = reference.list_channels(uow)
        mine = tills(principal, channels, reference.list_locations(uow))
        till = next(((c, s) for c, s in mine if c.code == channel), None)
        if till is None:
            if not any(c.code == channel for c in channels):
                raise NotFound(f"no channel {channel!r}")
            raise PermissionDenied(f"{channel} is not the till of a store you sell for")
        scan_problem = ""
        if scanned:
            hit, scan_problem, _ = find_variant(uow, scanned)
            if hit is not None:
                lines = form.add_item(lines, hit.variant.sku, scan_qty.strip()[:20] or "1")
                scanned = ""
    if remove or (scan and not scan_problem):
        lines = form.without(lines, remove) if remove else lines
        address = f"/pos/{till[0].code}?{form.query(lines, coupons=coupon_text)}"
        return RedirectResponse(address.rstrip("?"), status_code=303)
    return _screen(request, till, lines, coupon_text, scanned, scan_problem)


def _screen(
    request: Request,
    till: tuple[ChannelView, LocationView],
    lines: list[form.FormLine],
    coupons: str,
    scanned: str,
    scan_problem: str,
) -> Response:
    channel, store = till
    db = get_db(request)
    priced = None
    problems: list[CheckProblem] = []
    if lines:
        doc = form.basket_document(channel.code, lines, store=store.code, coupons=codes_in(coupons))
        try:
            priced = price_basket(db, parse_basket(doc))
        except ValidationFailed as exc:
            rows = list(range(1, len(lines) + 1))
            problems = check_problems(exc.errors or [FieldError("", exc.detail)], rows)
    considered = {c.code for p in priced.lines for c in p.considered} if priced else set()
    with db.uow(readonly=True) as uow:
        labels = catalog.sku_labels(uow, [line.sku for line in lines])
        names = discount_names(uow, considered)
    return render(
        request,
        "pos/sale.html",
        {
            "section": "pos",
            "channel": channel,
            "store": store,
            "lines": lines,
            "labels": labels,
            "names": names,  # of the discounts considered (applied ones carry their name)
            "coupons": coupons,
            "scanned": scanned,
            "scan_problem": scan_problem,
            "priced": priced,
            "problems": problems,
            "address": lambda **more: form.query(lines, coupons=coupons, **more),
        },
        status_code=422 if problems else 200,
    )
