"""Import a catalog document: check every row, then upsert by code/SKU in bulk.

The flow is: load what the document touches in a few bulk queries (never one per row), check
every row (``import_plan``), and — only if nothing is wrong, or the caller chose to skip bad
rows — write with ``executemany``. A row equal to what is stored is left alone, so importing
the same file twice changes nothing and emits no events the second time. Events are the same
ones the API emits (``catalog.product_created``, ``catalog.variant_updated``...), so
subscribers cannot tell an imported change from a typed one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from onestore.catalog import import_writes, model, writes
from onestore.catalog.import_plan import (
    SECTIONS,
    Existing,
    Locator,
    Plan,
    RowError,
    check_document,
)
from onestore.catalog.queries import chunks
from onestore.catalog.tables import (
    assortment_channels,
    assortment_lines,
    assortments,
    attribute_definitions,
    barcodes,
    categories,
    channel_locations,
    channels,
    locations,
    products,
    units,
    variants,
)
from onestore.db.uow import UnitOfWork
from onestore.kernel.errors import ValidationFailed

__all__ = ["ImportRejected", "ImportReport", "RowError", "SectionReport", "import_catalog"]


@dataclass
class SectionReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    invalid: int = 0


@dataclass
class ImportReport:
    """Per section what happened, and every row that was refused (skipped)."""

    sections: dict[str, SectionReport] = field(
        default_factory=lambda: {
            s: SectionReport() for s in (*SECTIONS[:6], "variants", "barcodes", SECTIONS[6])
        }
    )
    errors: list[RowError] = field(default_factory=list)

    def summary_lines(self) -> list[str]:
        return [
            f"{name}: {r.created} created, {r.updated} updated, {r.unchanged} unchanged"
            + (f", {r.invalid} invalid (skipped)" if r.invalid else "")
            for name, r in self.sections.items()
            if r.created or r.updated or r.unchanged or r.invalid
        ]


class ImportRejected(ValidationFailed):
    """Bad rows and no ``skip_invalid``: nothing was written. ``rows`` lists each one."""

    def __init__(self, rows: list[RowError]) -> None:
        super().__init__(
            f"{len(rows)} problem(s) in the document; nothing was imported",
            errors=[r.as_field_error() for r in rows],
        )
        self.rows = rows


def import_catalog(
    uow: UnitOfWork,
    document: dict[str, Any],
    *,
    skip_invalid: bool = False,
    progress: Callable[[int, int], None] | None = None,
    locate: Locator | None = None,
    known_errors: Sequence[RowError] = (),
) -> ImportReport:
    """Upsert ``document`` (format ``onestore.catalog/1``) in the caller's unit of work.

    Raises :class:`ImportRejected` (a ``ValidationFailed`` carrying every bad row) if any row
    is bad and ``skip_invalid`` is false; with ``skip_invalid`` the good rows are written and
    the bad ones listed in the report. ``progress(done, total)`` counts product rows checked
    and then written. ``locate`` and ``known_errors`` let a file reader (CSV) report in its
    own terms (line numbers) and add what it found while reading. The caller commits.
    """
    existing = load_existing(uow, document, lock=True)
    rows = document.get("products") if isinstance(document, dict) else None
    total = 2 * len(rows) if isinstance(rows, list) else 0
    tick = progress or (lambda _done, _total: None)
    plan = check_document(document, existing, locate=locate, progress=lambda n: tick(n, total))
    errors = [*known_errors, *plan.errors]
    if errors and not skip_invalid:
        raise ImportRejected(errors)
    report = ImportReport(errors=errors)
    for section in SECTIONS:
        report.sections[section].invalid = plan.rows[section] - len(plan.good[section])
    writer = import_writes.Writer(uow, existing, report.sections)
    writer.write(plan, progress=lambda n: tick(total // 2 + n, total))
    return report


# -- loading what exists, in bulk -----------------------------------------------------------------
def _section(document: Mapping[str, Any], name: str) -> list[dict[str, Any]]:
    rows = document.get(name)
    return [r for r in rows if isinstance(r, dict)] if isinstance(rows, list) else []


def _strings(values: Iterable[Any]) -> list[str]:
    return sorted({v for v in values if isinstance(v, str)})


def _wanted(document: Mapping[str, Any]) -> tuple[list[str], list[str], list[str]]:
    """Product codes, SKUs and GTINs the document mentions (malformed entries ignored)."""
    product_rows = _section(document, "products")
    codes = [p.get("code") for p in product_rows]
    for assortment in _section(document, "assortments"):
        lines = assortment.get("lines")
        if isinstance(lines, list):
            codes += [ln.get("product") for ln in lines if isinstance(ln, dict)]
    variant_rows = [
        v for p in product_rows if isinstance(p.get("variants"), list) for v in p["variants"]
    ]
    variant_rows = [v for v in variant_rows if isinstance(v, dict)]
    gtins = []
    for v in variant_rows:
        for raw in v.get("barcodes") or [] if isinstance(v.get("barcodes"), list) else []:
            if isinstance(raw, str) and len(raw) <= model.MAX_BARCODE_INPUT:
                try:
                    gtins.append(model.parse_barcode(raw).gtin)
                except ValidationFailed:
                    continue
    return _strings(codes), _strings(v.get("sku") for v in variant_rows), sorted(set(gtins))


def load_existing(uow: UnitOfWork, document: Any, *, lock: bool = False) -> Existing:
    """Everything the checks and the writer compare against, in a fixed number of queries
    per 500 codes (reference tables are read whole: they are small).

    With ``lock`` (an import that will write), what the import will update is locked before
    it is read, so an API change cannot commit between this read and the import's write and
    then be overwritten unseen: imports queue on one lock, category moves on the tree lock
    (when the document has categories), and the products it names are locked by id — every
    writer of a product's variants locks the product row first, so this covers them too.
    """
    doc = document if isinstance(document, dict) else {}
    ex = Existing()
    c = uow.conn
    r: Any
    if lock:
        writes.lock_import(uow)
        if _section(doc, "categories"):
            writes.lock_category_tree(uow)
    ex.units = {r.code: r for r in c.execute(select(units))}
    ex.attributes = {r.code: r for r in c.execute(select(attribute_definitions))}
    parent = categories.alias("parent")
    ex.categories = {
        r.code: r
        for r in c.execute(
            select(categories, parent.c.code.label("parent_code")).select_from(
                categories.outerjoin(parent, parent.c.id == categories.c.parent_id)
            )
        )
    }
    ex.locations = {r.code: r for r in c.execute(select(locations))}
    ex.channels = {
        r.code: r
        for r in c.execute(
            select(channels, locations.c.code.label("location_code")).select_from(
                channels.outerjoin(locations, locations.c.id == channels.c.location_id)
            )
        )
    }
    for r in c.execute(
        select(channels.c.code.label("channel"), locations.c.code.label("location"))
        .join(channel_locations, channel_locations.c.channel_id == channels.c.id)
        .join(locations, locations.c.id == channel_locations.c.location_id)
    ):
        ex.channel_serving.setdefault(r.channel, set()).add(r.location)
    product_codes, skus, gtins = _wanted(doc)
    if lock:
        _lock_products(uow, product_codes)
    _load_products(uow, ex, product_codes)
    for part in chunks(skus):
        for r in c.execute(
            select(variants.c.sku, products.c.code)
            .join(products, products.c.id == variants.c.product_id)
            .where(variants.c.sku.in_(part))
        ):
            ex.sku_owner[r.sku] = r.code
    for part in chunks(gtins):
        for r in c.execute(
            select(barcodes.c.gtin, variants.c.sku)
            .join(variants, variants.c.id == barcodes.c.variant_id)
            .where(barcodes.c.gtin.in_(part))
        ):
            ex.gtin_owner[r.gtin] = r.sku
    _load_assortments(uow, ex)
    return ex


def _lock_products(uow: UnitOfWork, codes: list[str]) -> None:
    """Lock the stored products with these codes in id order (the order every writer uses)."""
    ids: list[str] = []
    for part in chunks(codes):
        ids += [
            r.id for r in uow.conn.execute(select(products.c.id).where(products.c.code.in_(part)))
        ]
    writes.lock_rows(uow, products, ids)


def _load_products(uow: UnitOfWork, ex: Existing, codes: list[str]) -> None:
    c = uow.conn
    r: Any
    by_id: dict[str, str] = {}
    for part in chunks(codes):
        for r in c.execute(
            select(products, categories.c.code.label("category_code"))
            .select_from(products.outerjoin(categories, categories.c.id == products.c.category_id))
            .where(products.c.code.in_(part))
        ):
            ex.products[r.code] = r
            by_id[r.id] = r.code
    sku_by_variant: dict[str, str] = {}
    for part in chunks(sorted(by_id)):
        for r in c.execute(select(variants).where(variants.c.product_id.in_(part))):
            ex.variants.setdefault(by_id[r.product_id], []).append(r)
            sku_by_variant[r.id] = r.sku
            ex.barcodes.setdefault(r.sku, set())
        for r in c.execute(
            select(barcodes.c.gtin, barcodes.c.variant_id)
            .join(variants, variants.c.id == barcodes.c.variant_id)
            .where(variants.c.product_id.in_(part))
        ):
            ex.barcodes[sku_by_variant[r.variant_id]].add(r.gtin)


def _load_assortments(uow: UnitOfWork, ex: Existing) -> None:
    c = uow.conn
    r: Any
    ex.assortments = {r.code: r for r in c.execute(select(assortments))}
    code_of = {r.id: code for code, r in ex.assortments.items()}
    for r in c.execute(
        select(assortment_channels.c.assortment_id, channels.c.code).join(
            channels, channels.c.id == assortment_channels.c.channel_id
        )
    ):
        ex.assortment_channels.setdefault(code_of[r.assortment_id], set()).add(r.code)
    for r in c.execute(
        select(
            assortment_lines.c.assortment_id,
            assortment_lines.c.exclude,
            products.c.code.label("product"),
            categories.c.code.label("category"),
        ).select_from(
            assortment_lines.outerjoin(
                products, products.c.id == assortment_lines.c.product_id
            ).outerjoin(categories, categories.c.id == assortment_lines.c.category_id)
        )
    ):
        ex.assortment_lines.setdefault(code_of[r.assortment_id], set()).add(
            (r.product or "", r.category or "", bool(r.exclude))
        )


def plan_only(uow: UnitOfWork, document: dict[str, Any]) -> Plan:
    """Check a document without writing (``--dry-run`` style callers and tests)."""
    return check_document(document, load_existing(uow, document))
