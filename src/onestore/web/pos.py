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

import hmac
import json
import secrets
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from onestore.api.idempotency import run_idempotent
from onestore.api.security import get_db, require
from onestore.api.strict_json import StrictJSONRoute
from onestore.auth.model import Permission, Principal, PrincipalKind, permitted
from onestore.catalog import queries as catalog
from onestore.catalog import reference
from onestore.catalog.views import ChannelView, LocationView
from onestore.db.uow import UnitOfWork
from onestore.kernel.errors import NotFound, PermissionDenied, ValidationFailed
from onestore.pricing.overrides import (
    ReasonCode,
    parse_override,
    prepare_request,
    record_override,
    stored_request,
)
from onestore.pricing.schemas import codes_in
from onestore.pricing.views import discount_names
from onestore.web import basket_form as form
from onestore.web.backoffice import MAX_QUERY
from onestore.web.rendering import render
from onestore.web.stock import find_variant

router = APIRouter(prefix="/pos", route_class=StrictJSONRoute, include_in_schema=False)
QUOTE = Depends(require(Permission.PRICING_QUOTE))
OVERRIDE = Depends(require(Permission.PRICE_OVERRIDE))
Till = tuple[ChannelView, LocationView]


def tills(
    principal: Principal, channels: list[ChannelView], stores: list[LocationView]
) -> list[tuple[ChannelView, LocationView]]:
    """Active store channels at active stores where ``principal`` may price a sale: staff only
    (a customer's ``pricing.quote`` prices a cart, never at a till)."""
    if principal.kind is not PrincipalKind.STAFF:
        return []
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
    ovr: list[str] = Query([]),
    coupons: str = "",
    scan: str = "",
    scan_qty: str = "",
    remove: str = "",
    principal: Principal = QUOTE,
) -> Response:
    """The sale screen (see the module doc). A scan or a removal answers with a redirect to
    the basket's new address, so reloading the page never rings an item up twice."""
    db = get_db(request)
    lines = form.read_lines(sku, qty, ovr)
    coupon_text = coupons.strip()[:MAX_QUERY]
    scanned = scan.strip()[:MAX_QUERY]
    with db.uow(readonly=True) as uow:
        till = _till(uow, principal, channel)
        scan_problem = ""
        if scanned:
            hit, scan_problem, _ = find_variant(uow, scanned)
            if hit is not None:
                more = form.add_item(lines, hit.variant.sku, scan_qty.strip()[:20] or "1")
                if more is None:
                    scan_problem = form.FULL
                else:
                    lines, scanned = more, ""
    if remove or (scan and not scan_problem):
        lines = form.without(lines, remove) if remove else lines
        return form.redirect(_path(till), lines, coupon_text)
    return _screen(request, principal, till, lines, coupon_text, scanned, scan_problem)


def _till(uow: UnitOfWork, principal: Principal, channel: str) -> Till:
    """``channel``'s till if ``principal`` sells there: 404 for no such channel, else 403."""
    channels = reference.list_channels(uow)
    mine = tills(principal, channels, reference.list_locations(uow))
    till = next(((c, s) for c, s in mine if c.code == channel), None)
    if till is None:
        if not any(c.code == channel for c in channels):
            raise NotFound(f"no channel {channel!r}")
        raise PermissionDenied(f"{channel} is not the till of a store you sell for")
    return till


@router.post("/{channel}/override", dependencies=[OVERRIDE])
def override(
    request: Request,
    channel: str,
    csrf_token: str = Form(""),
    form_key: str = Form(""),
    line: str = Form(""),
    price: str = Form(""),
    reason: str = Form(""),
    approver: str = Form(""),
    approver_password: str = Form(""),
    sku: list[str] = Form([]),
    qty: list[str] = Form([]),
    ovr: list[str] = Form([]),
    coupons: str = Form(""),
    principal: Principal = OVERRIDE,
) -> Response:
    """Set one line's unit price with a reason code (``overrides.prepare_override``: the role's
    limit, above it a different manager's username and password typed at the till). Recorded
    once per form (``form_key`` is its idempotency key), then back to the sale with the line
    carrying the override; a refusal shows the sale again with the reason."""
    _check_form(request, csrf_token)
    db = get_db(request)
    lines = form.read_lines(sku, qty, ovr)
    coupon_text = coupons.strip()[:MAX_QUERY]
    with db.uow(readonly=True) as uow:
        till = _till(uow, principal, channel)
    number = int(line) if line.isascii() and line.isdigit() and len(line) <= 4 else 0
    if not 0 < number <= len(lines):
        raise ValidationFailed.on("line", "no such line in this basket")
    document: dict[str, Any] = {
        "channel": till[0].code,
        "store": till[1].code,
        "sku": lines[number - 1].sku,
        "price": price.strip()[:40],
        "reason": reason,
    }
    if approver.strip():
        document["approver"] = {"username": approver.strip(), "password": approver_password}
    try:
        fields = parse_override(document)
        prepared = prepare_request(db, principal, fields)
    except (ValidationFailed, PermissionDenied) as exc:
        problem = exc.errors[0].reason if exc.errors else exc.detail
        return _screen(
            request,
            principal,
            till,
            lines,
            coupon_text,
            "",
            "",
            override_problem=(number, problem),
            status=exc.status,
        )
    answer = run_idempotent(
        request,
        db,
        principal,
        stored_request(document, fields),
        lambda uow: (201, record_override(uow, prepared).as_json()),
        one_transaction=True,
        key=form_key.strip()[:255] or None,
    )
    recorded = json.loads(bytes(answer.body))
    lines = form.with_override(lines, number, recorded["id"])
    return form.redirect(_path(till), lines, coupon_text)


def _path(till: Till) -> str:
    return f"/pos/{quote(till[0].code, safe='')}"


def _check_form(request: Request, token: str) -> None:
    """A till form must carry the page session's own token: another site cannot post it."""
    session = getattr(request.state, "page_session", None)
    if session is None or not hmac.compare_digest(session.csrf_token.encode(), token.encode()):
        raise PermissionDenied("this form has expired or did not come from this site; try again")


def _screen(
    request: Request,
    principal: Principal,
    till: tuple[ChannelView, LocationView],
    lines: list[form.FormLine],
    coupons: str,
    scanned: str,
    scan_problem: str,
    *,
    override_problem: tuple[int, str] | None = None,
    status: int | None = None,
) -> Response:
    channel, store = till
    db = get_db(request)
    doc = form.basket_document(channel.code, lines, store=store.code, coupons=codes_in(coupons))
    priced, problems = form.price(db, doc, len(lines))
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
            "reasons": [r.value for r in ReasonCode],
            "override_problem": override_problem,
            "form_key": secrets.token_urlsafe(16),
            "may_override": permitted(principal, Permission.PRICE_OVERRIDE, store.id),
        },
        status_code=status or (422 if problems else 200),
    )
