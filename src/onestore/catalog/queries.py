"""Catalog reads: products, variants, barcodes and the assortment a channel offers.

Every function takes a unit of work (read-only is enough) and returns views from
``onestore.catalog.views``. Lists load a page in a fixed number of queries whatever its size
(no query per row), because the back-office product list and the POS lookup are hot paths.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, and_, exists, false, func, or_, select

from onestore.catalog import model
from onestore.catalog.reference import (
    by_id_or_code,
    category_id_or_raise,
    category_parents,
    channel_assortment_rules,
)
from onestore.catalog.tables import (
    barcodes,
    categories,
    channels,
    products,
    variants,
)
from onestore.catalog.views import (
    BarcodeHit,
    BarcodeView,
    ProductDetail,
    ProductPage,
    ProductSummary,
    SkuLabel,
    VariantView,
)
from onestore.db.uow import UnitOfWork
from onestore.kernel.clock import as_utc
from onestore.kernel.errors import NotFound, ValidationFailed
from onestore.kernel.money import Money, minor_units

MAX_LIMIT = 100
MAX_OFFSET = 10**9
T = TypeVar("T")
CHUNK = 500
"""Rows per IN (...) list: well inside SQLite's and PostgreSQL's bind-parameter limits."""


def money(amount: Decimal, currency: str) -> Money:
    """Stored amounts carry four places (NUMERIC(18, 4)); show the currency's own."""
    return Money(Decimal(amount).quantize(Decimal(1).scaleb(-minor_units(currency))), currency)


def chunks(items: Sequence[T], size: int = CHUNK) -> Iterable[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def check_paging(limit: int, offset: int) -> None:
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationFailed.on("limit", f"must be between 1 and {MAX_LIMIT}")
    if not 0 <= offset <= MAX_OFFSET:
        raise ValidationFailed.on("offset", f"must be between 0 and {MAX_OFFSET}")


# -- categories and assortments used as filters ---------------------------------------------------
def _channel_id_or_raise(uow: UnitOfWork, code: str, field: str) -> str:
    found = uow.conn.execute(select(channels.c.id).where(channels.c.code == code)).first()
    if found is None:
        raise ValidationFailed.on(field, f"unknown channel {code!r}")
    return str(found.id)


def offered_condition(uow: UnitOfWork, channel_id: str, day: date) -> ColumnElement[bool]:
    """A WHERE clause on ``products`` for "the channel offers it on ``day``".

    Built from :func:`model.expand_assortment`, so it applies exactly the model's rule, but
    runs in SQL: the number of bind parameters grows with the assortment lines and categories,
    not with the number of products.
    """
    parents = category_parents(uow)
    clauses = []
    for rule in channel_assortment_rules(uow, channel_id):
        if not rule.valid_on(day):
            continue
        e = model.expand_assortment(rule, parents)
        included = or_(
            products.c.id.in_(sorted(e.include_products)),
            products.c.category_id.in_(sorted(e.include_categories)),
        )
        excluded = or_(
            products.c.id.in_(sorted(e.exclude_products)),
            products.c.category_id.in_(sorted(e.exclude_categories)),
        )
        clauses.append(and_(included, ~excluded))
    return or_(*clauses) if clauses else false()


def offered_product_ids(uow: UnitOfWork, channel: str, day: date | None = None) -> frozenset[str]:
    """Ids of the products channel ``channel`` (a code) offers on ``day`` (default: today)."""
    channel_id = _channel_id_or_raise(uow, channel, "channel")
    when = day or uow.now().date()
    rows = uow.conn.execute(select(products.c.id).where(offered_condition(uow, channel_id, when)))
    return frozenset(r.id for r in rows)


# -- products -------------------------------------------------------------------------------------
def _search_condition(q: str) -> ColumnElement[bool]:
    needle = q.strip().lower()
    conditions: list[ColumnElement[bool]] = [
        func.lower(products.c.code).contains(needle, autoescape=True),
        func.lower(products.c.name).contains(needle, autoescape=True),
        func.lower(products.c.brand).contains(needle, autoescape=True),
        exists().where(
            variants.c.product_id == products.c.id,
            func.lower(variants.c.sku).contains(needle, autoescape=True),
        ),
        exists().where(
            variants.c.product_id == products.c.id,
            barcodes.c.variant_id == variants.c.id,
            barcodes.c.code.contains(needle, autoescape=True),
        ),
    ]
    try:
        gtin = model.parse_barcode(needle).gtin
    except ValidationFailed:
        gtin = None
    if gtin is not None:  # a scanned code in another form (UPC-A vs EAN-13) still matches
        conditions.append(
            exists().where(
                variants.c.product_id == products.c.id,
                barcodes.c.variant_id == variants.c.id,
                barcodes.c.gtin == gtin,
            )
        )
    return or_(*conditions)


def list_products(
    uow: UnitOfWork,
    *,
    q: str | None = None,
    category: str | None = None,
    status: str | None = None,
    brand: str | None = None,
    channel: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> ProductPage:
    """One page of products, ordered by code, with variant counts and "from" prices.

    ``q`` matches product code, name, brand, SKU or barcode (case-insensitive, substring);
    ``category`` includes its sub-categories; ``brand`` is an exact, case-insensitive match;
    ``channel`` keeps what that channel's assortments offer today.
    """
    check_paging(limit, offset)
    where: list[ColumnElement[bool]] = []
    if q is not None and q.strip():
        if len(q) > 200:
            raise ValidationFailed.on("q", "must be at most 200 characters")
        where.append(_search_condition(q))
    if category:
        root = category_id_or_raise(uow, category, "category")
        subtree = model.descendants([root], category_parents(uow))
        where.append(products.c.category_id.in_(sorted(subtree)))
    if status:
        if status not in model.PRODUCT_STATUSES:
            raise ValidationFailed.on(
                "status", f"must be one of {', '.join(model.PRODUCT_STATUSES)}"
            )
        where.append(products.c.status == status)
    if brand:
        where.append(func.lower(products.c.brand) == brand.strip().lower())
    if channel:
        channel_id = _channel_id_or_raise(uow, channel, "channel")
        where.append(offered_condition(uow, channel_id, uow.now().date()))
    total = uow.conn.execute(select(func.count()).select_from(products).where(*where)).scalar_one()
    rows = uow.conn.execute(
        select(
            products.c.id,
            products.c.code,
            products.c.name,
            products.c.brand,
            products.c.status,
            categories.c.code.label("category_code"),
            categories.c.name.label("category_name"),
        )
        .select_from(products.outerjoin(categories, categories.c.id == products.c.category_id))
        .where(*where)
        .order_by(products.c.code)
        .limit(limit)
        .offset(offset)
    ).all()
    prices: dict[str, list[tuple[Money, int]]] = defaultdict(list)
    counts: dict[str, int] = defaultdict(int)
    if rows:
        for r in uow.conn.execute(
            select(
                variants.c.product_id,
                variants.c.currency,
                variants.c.status,
                func.min(variants.c.list_price).label("low"),
                func.count().label("n"),
            )
            .where(variants.c.product_id.in_([r.id for r in rows]))
            .group_by(variants.c.product_id, variants.c.currency, variants.c.status)
        ):
            counts[r.product_id] += r.n
            if r.status == "active":
                prices[r.product_id].append((money(r.low, r.currency), r.n))
    items = [
        ProductSummary(
            id=r.id,
            code=r.code,
            name=r.name,
            brand=r.brand,
            category_code=r.category_code,
            category_name=r.category_name,
            status=r.status,
            variant_count=counts[r.id],
            min_price=model.lowest_price(prices[r.id]),
        )
        for r in rows
    ]
    return ProductPage(items=items, total=int(total), limit=limit, offset=offset)


def variant_views(uow: UnitOfWork, product_ids: Sequence[str]) -> dict[str, list[VariantView]]:
    """Variants (with barcodes) of several products, keyed by product id, sorted by SKU."""
    found: dict[str, list[Any]] = defaultdict(list)
    codes: dict[str, list[BarcodeView]] = defaultdict(list)
    for part in chunks(list(product_ids)):
        for v in uow.conn.execute(
            select(variants).where(variants.c.product_id.in_(part)).order_by(variants.c.sku)
        ):
            found[v.product_id].append(v)
        for b in uow.conn.execute(
            select(barcodes.c.variant_id, barcodes.c.code, barcodes.c.gtin, barcodes.c.kind)
            .join(variants, variants.c.id == barcodes.c.variant_id)
            .where(variants.c.product_id.in_(part))
            .order_by(barcodes.c.gtin)
        ):
            codes[b.variant_id].append(BarcodeView(code=b.code, gtin=b.gtin, kind=b.kind))
    return {pid: [_variant_view(v, codes[v.id]) for v in rows] for pid, rows in found.items()}


def _variant_view(row: Any, codes: list[BarcodeView]) -> VariantView:
    return VariantView(
        id=row.id,
        sku=row.sku,
        size=row.size,
        colour=row.colour,
        style=row.style,
        list_price=money(row.list_price, row.currency),
        status=row.status,
        barcodes=codes,
        version=row.version,
    )


def _product_row(uow: UnitOfWork, ref: str) -> Any:
    query = select(
        products,
        categories.c.code.label("category_code"),
        categories.c.name.label("category_name"),
    ).select_from(products.outerjoin(categories, categories.c.id == products.c.category_id))
    return uow.conn.execute(by_id_or_code(query, products.c.id, products.c.code, ref)).first()


def product_id_of(uow: UnitOfWork, ref: str) -> str | None:
    """The id of the product with id or code ``ref`` (the id match wins), or None."""
    query = by_id_or_code(select(products.c.id), products.c.id, products.c.code, ref)
    found = uow.conn.execute(query).first()
    return None if found is None else str(found.id)


def get_product(uow: UnitOfWork, ref: str) -> ProductDetail | None:
    """A product by id or code, with its variants and their barcodes; None if there is none."""
    row = _product_row(uow, ref)
    if row is None:
        return None
    return ProductDetail(
        id=row.id,
        code=row.code,
        name=row.name,
        description=row.description,
        brand=row.brand,
        category_code=row.category_code,
        category_name=row.category_name,
        unit=row.unit_code,
        status=row.status,
        dimensions=list(row.dimensions),
        attributes=dict(row.attributes),
        version=row.version,
        created_at=as_utc(row.created_at),
        updated_at=as_utc(row.updated_at),
        variants=variant_views(uow, [row.id]).get(row.id, []),
    )


def get_product_or_raise(uow: UnitOfWork, ref: str) -> ProductDetail:
    product = get_product(uow, ref)
    if product is None:
        raise NotFound(f"no product with id or code {ref!r}")
    return product


def _hit_query() -> Select[Any]:
    return select(
        variants,
        products.c.code.label("product_code"),
        products.c.name.label("product_name"),
    ).join(products, products.c.id == variants.c.product_id)


def _hit(uow: UnitOfWork, query: Select[Any]) -> BarcodeHit | None:
    row = uow.conn.execute(query).first()
    if row is None:
        return None
    codes = [
        BarcodeView(code=b.code, gtin=b.gtin, kind=b.kind)
        for b in uow.conn.execute(
            select(barcodes.c.code, barcodes.c.gtin, barcodes.c.kind)
            .where(barcodes.c.variant_id == row.id)
            .order_by(barcodes.c.gtin)
        )
    ]
    return BarcodeHit(
        product_id=row.product_id,
        product_code=row.product_code,
        product_name=row.product_name,
        variant=_variant_view(row, codes),
    )


def get_variant(uow: UnitOfWork, sku: str) -> BarcodeHit | None:
    """A variant by id or SKU (the id match wins), with its product's id, code and name."""
    return _hit(uow, by_id_or_code(_hit_query(), variants.c.id, variants.c.sku, sku))


def get_variant_or_raise(uow: UnitOfWork, sku: str) -> BarcodeHit:
    hit = get_variant(uow, sku)
    if hit is None:
        raise NotFound(f"no variant with SKU {sku!r}")
    return hit


def sku_labels(uow: UnitOfWork, skus: Sequence[str]) -> dict[str, SkuLabel]:
    """Product name and size / colour / style of each known SKU in ``skus`` (one query per
    :data:`CHUNK` SKUs); unknown SKUs are simply absent."""
    found: dict[str, SkuLabel] = {}
    for part in chunks(sorted(set(skus))):
        rows = uow.conn.execute(
            select(
                variants.c.sku,
                variants.c.size,
                variants.c.colour,
                variants.c.style,
                products.c.code,
                products.c.name,
            )
            .join(products, products.c.id == variants.c.product_id)
            .where(variants.c.sku.in_(part))
        )
        for r in rows:
            found[r.sku] = SkuLabel(r.sku, r.code, r.name, r.size, r.colour, r.style)
    return found


def find_variant_by_barcode(uow: UnitOfWork, code: str) -> BarcodeHit:
    """The variant a scanned code belongs to, whatever form the scanner reported it in.

    Raises :class:`ValidationFailed` on field ``barcode`` for a malformed code or a wrong
    check digit (a mis-scan, worth telling apart from an unknown article) and
    :class:`NotFound` when the code is valid but not ours.
    """
    gtin = model.parse_barcode(code, field="barcode").gtin
    hit = _hit(
        uow,
        _hit_query().where(
            variants.c.id
            == select(barcodes.c.variant_id).where(barcodes.c.gtin == gtin).scalar_subquery()
        ),
    )
    if hit is None:
        raise NotFound(f"no variant has barcode {gtin}")
    return hit
