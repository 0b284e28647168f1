"""Pricing API (``/api/v1/pricing``) and the back-office pricing pages (``/backoffice/pricing``).

Permissions: ``pricing.quote`` prices a basket (every staff role and customers: a cart prices
itself); ``pricing.read`` reads price groups, discounts and coupon codes (staff only — a coupon
code is a secret until it is handed out) and opens the pages; ``pricing.write`` changes pricing
data (merchandisers, admins).

Bodies are pricing documents read by the context's own parsers, so the API, the import files
and ``onestore import`` take the same JSON and name the same fields in a 422 (``tiers[1].
min_quantity``). Money and percents are decimal strings; a JSON float is refused. Every write
needs an ``Idempotency-Key``: the key and its answer are stored in the write's own transaction
(pricing writes touch nothing outside the database), and every write moves the pricing data
version, which each answer reports. Pricing a basket writes nothing and needs no key.

A customer may not claim customer groups, a loyalty tier or a customer reference in a basket:
those will come from the customer's account (no customer profiles exist yet), and taking them
from the body would let a shopper buy at staff prices. A customer's priced basket leaves out
the candidates of other scopes and of coupons (``service.SHOPPER_HIDDEN``): which promotions
exist for staff or behind a code is not the shopper's to learn from a cart.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any, TypeVar

from fastapi import APIRouter, Body, Depends, Path, Query, Request, Response
from fastapi.responses import JSONResponse

from onestore.api.idempotency import IDEMPOTENCY_KEY, run_idempotent
from onestore.api.security import get_db, require
from onestore.api.strict_json import StrictJSONRoute
from onestore.auth.model import Permission, Principal, PrincipalKind
from onestore.catalog import reference
from onestore.catalog.wire import to_json
from onestore.db.uow import UnitOfWork
from onestore.kernel.errors import FieldError, PermissionDenied, ValidationFailed
from onestore.pricing import views, writes
from onestore.pricing.basket import BasketIn, parse_basket
from onestore.pricing.books import current_version
from onestore.pricing.definitions import parse_discount
from onestore.pricing.overrides import (
    parse_override,
    prepare_request,
    record_override,
    stored_request,
)
from onestore.pricing.price_files import parse_prices_json
from onestore.pricing.schemas import (
    ChangeOut,
    CheckProblem,
    DiscountChangeOut,
    DiscountOut,
    PriceCheckForm,
    PricedBasketOut,
    VersionOut,
    check_problems,
)
from onestore.pricing.service import price_basket, priced_to_json
from onestore.pricing.settings_files import DISCOUNTS_FORMAT, parse_discounts_file, parse_tax
from onestore.web.rendering import render

T = TypeVar("T")

router = APIRouter(prefix="/api/v1/pricing", tags=["pricing"], route_class=StrictJSONRoute)

QUOTE = Depends(require(Permission.PRICING_QUOTE))
READ = [Depends(require(Permission.PRICING_READ))]
WRITE = Depends(require(Permission.PRICING_WRITE))

Code = Path(..., min_length=1, max_length=64, description="The discount's code.")
Limit = Query(100, ge=1, le=views.MAX_LIMIT, description="Page size.")
Offset = Query(0, ge=0, le=views.MAX_OFFSET, description="Rows to skip.")


def _document(description: str) -> Any:
    return Body(..., description=description)


def _write(
    request: Request,
    principal: Principal,
    payload: Any,
    work: Callable[[UnitOfWork], tuple[int, Any]],
) -> Response:
    """Run ``work`` once per Idempotency-Key, its answer stored in its own transaction."""
    return run_idempotent(request, get_db(request), principal, payload, work, one_transaction=True)


def _read(parse: Callable[[Any], T], doc: Any) -> T:
    """``parse(doc)``, refusing besides every number in ``doc`` with a fraction or exponent.

    The strict JSON parser keeps such numbers exact (``Decimal``) and the pricing parsers
    accept them, but on the wire money, percents and quantities are decimal strings
    (``"12.50"``): a client that sends ``12.5`` has usually already lost precision in a float.
    Whole numbers (counts, priorities) stay numbers. One 422 lists both kinds of problem."""
    errors: list[FieldError] = []
    stack: list[tuple[Any, str]] = [(doc, "")]
    while stack:
        node, path = stack.pop()
        if isinstance(node, Decimal):
            errors.append(FieldError(path, f'must be a decimal string such as "{node:f}"'))
        elif isinstance(node, dict):
            stack.extend((v, f"{path}.{k}" if path else str(k)) for k, v in node.items())
        elif isinstance(node, list):
            stack.extend((v, f"{path}[{i}]") for i, v in enumerate(node))
    errors.sort(key=lambda e: e.field)
    try:
        result = parse(doc)
    except ValidationFailed as exc:
        named = {e.field for e in errors}
        errors += [e for e in exc.errors if e.field not in named]
        if not errors:
            raise
    if errors:
        raise ValidationFailed(f"{errors[0].field}: {errors[0].reason}", errors=errors)
    return result


def _relative(exc: ValidationFailed, prefix: str) -> ValidationFailed:
    """``exc`` with ``prefix`` taken off each field: a one-discount body's errors name fields
    of that body (``scope.channels``), not of a file's list (``discount[0].scope.channels``)."""
    errors = [FieldError(e.field.removeprefix(prefix) or "body", e.reason) for e in exc.errors]
    if not errors:
        return exc
    return ValidationFailed(f"{errors[0].field}: {errors[0].reason}", errors=errors)


# -- pricing a basket -----------------------------------------------------------------------------
def _own_claims(principal: Principal, basket: BasketIn) -> None:
    """A shopper's groups, tier and identity are not theirs to state (see the module doc)."""
    if principal.kind is not PrincipalKind.CUSTOMER:
        return
    claimed = [
        name
        for name, value in (
            ("customer_groups", basket.customer_groups),
            ("loyalty_tier", basket.loyalty_tier),
            ("customer", basket.customer),
            ("lines.override", any(line.override for line in basket.lines)),
        )
        if value
    ]
    if claimed:
        reason = "comes from the customer's account; a customer may not set it"
        raise PermissionDenied(
            f"{claimed[0]}: {reason}", errors=[FieldError(name, reason) for name in claimed]
        )


@router.post("/price", response_model=PricedBasketOut)
def price(
    request: Request,
    basket: dict[str, Any] = _document(
        "A basket: channel, optional store, customer_groups, loyalty_tier, customer, coupons, "
        "at (local time), ship_to, and lines of sku and quantity (decimal strings)."
    ),
    principal: Principal = QUOTE,
) -> JSONResponse:
    """Price a basket as its channel would sell it now (or at ``at``): each line's unit price
    and where it came from, the discounts applied with their amounts, the discounts that were
    about the line but gave nothing and why, tax, totals and the pricing data version used.
    Writes nothing (no ``Idempotency-Key``)."""
    parsed = _read(parse_basket, basket)
    _own_claims(principal, parsed)
    priced = price_basket(get_db(request), parsed)
    shopper = principal.kind is PrincipalKind.CUSTOMER
    return JSONResponse(priced_to_json(priced, shopper=shopper))


@router.get("/version", dependencies=READ, response_model=VersionOut)
def version(request: Request) -> JSONResponse:
    """The pricing data version: it moves with every change to prices, discounts, coupons or
    tax, and a priced basket says which one it used."""
    with get_db(request).uow(readonly=True) as uow:
        return JSONResponse({"version": current_version(uow)})


# -- discounts ------------------------------------------------------------------------------------
@router.get("/discounts", dependencies=READ, response_model=views.DiscountPage)
def list_discounts(
    request: Request,
    active: bool | None = Query(None, description="Only active (true) or inactive (false)."),
    limit: int = Limit,
    offset: int = Offset,
) -> JSONResponse:
    """Discounts by priority (highest first), then code."""
    with get_db(request).uow(readonly=True) as uow:
        page = views.list_discounts(uow, active=active, limit=limit, offset=offset)
    return JSONResponse(to_json(page))


@router.get("/discounts/{code}", dependencies=READ, response_model=DiscountOut)
def get_discount(request: Request, code: str = Code) -> JSONResponse:
    """One discount: its definition (the document it was written as), whether it is active
    and its revision (one more with every change)."""
    with get_db(request).uow(readonly=True) as uow:
        return JSONResponse(to_json(views.get_discount_or_raise(uow, code)))


@router.put("/discounts/{code}", response_model=DiscountChangeOut, openapi_extra=IDEMPOTENCY_KEY)
def put_discount(
    request: Request,
    code: str = Code,
    document: dict[str, Any] = _document(
        "One discount document (see docs: code, name, kind, concurrency, priority, scope, "
        "items and the rule of its kind). ``code`` may be left out; if given it must equal "
        "the path's."
    ),
    principal: Principal = WRITE,
) -> Response:
    """Create (201) or replace (200) the discount ``code``; a replaced discount keeps its code,
    its revision goes up by one and it is active again. Needs an ``Idempotency-Key``."""
    if "code" in document and document["code"] != code:
        raise ValidationFailed.on("code", f"must equal the code in the path ({code!r})")
    discount = _read(parse_discount, {"code": code, **document})

    def work(uow: UnitOfWork) -> tuple[int, Any]:
        try:
            change = writes.import_discounts(uow, [discount], where="discount")
        except ValidationFailed as exc:
            raise _relative(exc, "discount[0].") from None
        detail = views.get_discount_or_raise(uow, code)
        return 201 if change.created else 200, {**change.as_json(), "discount": to_json(detail)}

    return _write(request, principal, {"code": code, "document": document}, work)


def _switch(request: Request, principal: Principal, code: str, active: bool) -> Response:
    def work(uow: UnitOfWork) -> tuple[int, Any]:
        change = writes.set_discount_active(uow, code, active)
        detail = views.get_discount_or_raise(uow, code)
        return 200, {**change.as_json(), "discount": to_json(detail)}

    return _write(request, principal, {"code": code, "active": active}, work)


@router.post(
    "/discounts/{code}/deactivate",
    response_model=DiscountChangeOut,
    openapi_extra=IDEMPOTENCY_KEY,
)
def deactivate_discount(
    request: Request, code: str = Code, principal: Principal = WRITE
) -> Response:
    """Switch a discount off: baskets priced from now on no longer get it. Its definition and
    coupons are kept. Needs an ``Idempotency-Key``."""
    return _switch(request, principal, code, False)


@router.post(
    "/discounts/{code}/activate", response_model=DiscountChangeOut, openapi_extra=IDEMPOTENCY_KEY
)
def activate_discount(request: Request, code: str = Code, principal: Principal = WRITE) -> Response:
    """Switch a discount back on. Needs an ``Idempotency-Key``."""
    return _switch(request, principal, code, True)


# -- prices ---------------------------------------------------------------------------------------
@router.get("/price-groups", dependencies=READ, response_model=list[views.PriceGroupView])
def list_price_groups(request: Request) -> JSONResponse:
    """Every price group with what it is linked to and how many prices it holds."""
    with get_db(request).uow(readonly=True) as uow:
        return JSONResponse(to_json(views.list_price_groups(uow)))


@router.post("/prices", response_model=ChangeOut, openapi_extra=IDEMPOTENCY_KEY)
def post_prices(
    request: Request,
    document: dict[str, Any] = _document(
        'An onestore.prices/1 document: {"format": "onestore.prices/1", "price_groups": '
        '[...], "prices": [...]}.'
    ),
    principal: Principal = WRITE,
) -> Response:
    """Upsert price groups (with their links) and prices, all or nothing: a price by group,
    SKU, currency and start date. Needs an ``Idempotency-Key``."""
    data = _read(parse_prices_json, document)
    return _write(
        request, principal, document, lambda uow: (200, writes.import_prices(uow, data).as_json())
    )


# -- coupons --------------------------------------------------------------------------------------
@router.get("/coupons", dependencies=READ, response_model=views.CouponPage)
def list_coupons(
    request: Request,
    discount: str | None = Query(None, min_length=1, max_length=64, description="Its code."),
    limit: int = Limit,
    offset: int = Offset,
) -> JSONResponse:
    """Coupon codes by code, with their limits and uses; ``discount`` keeps those unlocking
    that discount."""
    with get_db(request).uow(readonly=True) as uow:
        page = views.list_coupons(uow, discount=discount, limit=limit, offset=offset)
    return JSONResponse(to_json(page))


@router.post("/coupons", response_model=ChangeOut, openapi_extra=IDEMPOTENCY_KEY)
def post_coupons(
    request: Request,
    document: dict[str, Any] = _document(
        '{"coupons": [{"code", "discount", "max_uses", "max_uses_per_customer", "valid_from", '
        '"valid_to", "active"}]}, as in a discounts file.'
    ),
    principal: Principal = WRITE,
) -> Response:
    """Create or update coupon codes (case-blind, stored upper case); an update never resets
    the count of uses. Needs an ``Idempotency-Key``."""
    if "discounts" in document:
        raise ValidationFailed.on("discounts", "not taken here: PUT each discount to its code")
    if not document.get("coupons"):
        raise ValidationFailed.on("coupons", "is required: a list of at least one coupon")
    _, coupons = _read(parse_discounts_file, {"format": DISCOUNTS_FORMAT, **document})
    return _write(
        request,
        principal,
        document,
        lambda uow: (200, writes.import_coupons(uow, coupons).as_json()),
    )


# -- tax ------------------------------------------------------------------------------------------
@router.post("/tax", response_model=ChangeOut, openapi_extra=IDEMPOTENCY_KEY)
def post_tax(
    request: Request,
    document: dict[str, Any] = _document(
        'An onestore.tax/1 document: {"format": "onestore.tax/1", "rates": [...], '
        '"products": [...], "channels": [...]}.'
    ),
    principal: Principal = WRITE,
) -> Response:
    """Upsert tax rates, product tax groups and channels' tax settings. Needs an
    ``Idempotency-Key``."""
    data = _read(parse_tax, document)
    return _write(
        request, principal, document, lambda uow: (200, writes.import_tax(uow, data).as_json())
    )


# -- manual price overrides ---------------------------------------------------------------------
OVERRIDE = Depends(require(Permission.PRICE_OVERRIDE))


@router.post("/overrides", status_code=201, openapi_extra=IDEMPOTENCY_KEY)
def post_override(
    request: Request,
    document: dict[str, Any] = _document(
        '{"channel": "POS-S1", "store": "S1", "sku": "SHIRT-1", "price": "36.00", '
        '"reason": "damaged", "approver": {"username": "…", "password": "…"}} — approver only '
        "when the cut is over the requester's limit."
    ),
    principal: Principal = OVERRIDE,
) -> Response:
    """Set a line's unit price at the till, with a reason code; a cut over the requester's
    role limit needs a different manager's credentials (``approver``). Returns the override
    whose ``id`` the basket line carries as ``"override"``. Needs an ``Idempotency-Key``."""
    db = get_db(request)
    fields = _read(parse_override, document)
    override = prepare_request(db, principal, fields)
    return _write(
        request,
        principal,
        stored_request(document, fields),
        lambda uow: (201, record_override(uow, override).as_json()),
    )


# == back-office pages ============================================================================
pages = APIRouter(
    prefix="/backoffice/pricing", route_class=StrictJSONRoute, include_in_schema=False
)

COUPONS_SHOWN = 200
ACTIVE_FILTERS = {"yes": True, "no": False}


@pages.get("", dependencies=READ)
def overview(request: Request, active: str = "") -> Response:
    """Every discount (or the active / inactive ones) and every price group."""
    shown = ACTIVE_FILTERS.get(active)
    with get_db(request).uow(readonly=True) as uow:
        discounts = views.list_discounts(uow, active=shown, limit=views.MAX_LIMIT)
        groups = views.list_price_groups(uow)
        data_version = current_version(uow)
    return render(
        request,
        "backoffice/pricing_overview.html",
        {
            "section": "pricing",
            "discounts": discounts,
            "groups": groups,
            "active": active if shown is not None else "",
            "data_version": data_version,
        },
    )


@pages.get("/discounts/{code}", dependencies=READ)
def discount_page(request: Request, code: str) -> Response:
    """One discount: its facts, its definition as stored, and its coupon codes."""
    with get_db(request).uow(readonly=True) as uow:
        detail = views.get_discount_or_raise(uow, code)
        coupons = views.list_coupons(uow, discount=detail.code, limit=COUPONS_SHOWN)
    return render(
        request,
        "backoffice/pricing_discount.html",
        {
            "section": "pricing",
            "discount": detail,
            "definition": json.dumps(detail.definition, indent=2, ensure_ascii=False),
            "coupons": coupons,
        },
    )


def _percent(value: Decimal) -> str:
    """A tax rate as people write it: ``10``, ``8.25`` (not ``10.0000``)."""
    return format(value.normalize(), "f")


@pages.get("/check", dependencies=READ)
def price_check(
    request: Request,
    channel: str = "",
    store: str = "",
    groups: str = "",
    tier: str = "",
    coupons: str = "",
    at: str = "",
    sku: list[str] = Query([]),
    qty: list[str] = Query([]),
) -> Response:
    """Price a basket typed into the form and show how every line's price came about: the
    explanation a till or a cart shows, for checking a promotion before and after it starts."""
    form = PriceCheckForm.read(
        channel=channel,
        store=store,
        groups=groups,
        tier=tier,
        coupons=coupons,
        at=at,
        skus=sku,
        quantities=qty,
    )
    db = get_db(request)
    with db.uow(readonly=True) as uow:
        channels = [c for c in reference.list_channels(uow) if c.is_active]
        stores = [s for s in reference.list_locations(uow, kind="store") if s.is_active]
    problems: list[CheckProblem] = []
    priced = None
    names: dict[str, str] = {}
    status = 200
    if form.submitted:
        doc, rows = form.basket()
        try:
            priced = price_basket(db, parse_basket(doc))
        except ValidationFailed as exc:
            problems = check_problems(exc.errors or [FieldError("", exc.detail)], rows)
            status = 422
        else:
            codes = {d.code for line in priced.lines for d in line.discounts}
            codes |= {c.code for line in priced.lines for c in line.considered}
            with db.uow(readonly=True) as uow:
                names = views.discount_names(uow, codes)
    return render(
        request,
        "backoffice/pricing_check.html",
        {
            "section": "pricing",
            "form": form,
            "channels": channels,
            "stores": stores,
            "problems": problems,
            "priced": priced,
            "names": names,
            "percent": _percent,
        },
        status_code=status,
    )
