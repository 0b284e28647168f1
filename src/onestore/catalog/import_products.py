"""Writing imported products, variants and barcodes: compare with what is stored, then insert
and update in batches with ``executemany``.

A field the row does not give (``description``, ``attributes``, a variant's ``status``...) keeps
its stored value, so a CSV file — which has no attributes column — never wipes attributes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, update

from onestore.catalog import model
from onestore.catalog.import_plan import Good
from onestore.catalog.queries import money
from onestore.catalog.service import attribute_definitions_by_code, insert_or_conflict
from onestore.catalog.tables import barcodes, products, variants
from onestore.db.uow import UnitOfWork
from onestore.kernel.ids import new_id
from onestore.kernel.money import Money

if TYPE_CHECKING:
    from onestore.catalog.import_writes import Writer

BATCH = 500


def update_many(
    uow: UnitOfWork,
    table: Any,
    key: str,
    rows: list[dict[str, Any]],
    extra: Mapping[str, Any] | None = None,
) -> None:
    """UPDATE ... WHERE key = :b_key for many rows with the same columns (executemany);
    ``extra`` adds SQL expressions every row gets, e.g. ``version = version + 1``."""
    if not rows:
        return
    columns = [k for k in rows[0] if k != key]
    statement = (
        update(table)
        .where(table.c[key] == bindparam(f"b_{key}"))
        .values({c: bindparam(f"b_{c}") for c in columns} | dict(extra or {}))
    )
    uow.conn.execute(statement, [{f"b_{k}": v for k, v in row.items()} for row in rows])


def _money(amount: Any, currency: str) -> Money:
    return model.parse_price(
        str(amount), currency, amount_field="list_price", currency_field="currency"
    )


class ProductWriter:
    def __init__(self, writer: Writer) -> None:
        self.w = writer
        self.uow = writer.uow
        self.new_products: list[dict[str, Any]] = []
        self.changed_products: list[dict[str, Any]] = []
        self.new_variants: list[dict[str, Any]] = []
        self.changed_variants: list[dict[str, Any]] = []
        self.new_barcodes: list[dict[str, Any]] = []

    def write(self, goods: list[Good], progress: Callable[[int], None]) -> None:
        definitions = attribute_definitions_by_code(self.uow)
        for good in goods:
            self._product(good, definitions)
        done = 0
        for start in range(0, max(len(self.new_products), 1), BATCH):
            part = self.new_products[start : start + BATCH]
            if part:
                insert_or_conflict(self.uow, products.insert(), part, "a product code is in use")
        update_many(
            self.uow, products, "id", self.changed_products, {"version": products.c.version + 1}
        )
        for start in range(0, len(self.new_variants), BATCH):
            part = self.new_variants[start : start + BATCH]
            insert_or_conflict(self.uow, variants.insert(), part, "a SKU is in use")
            done = min(len(goods), done + max(1, len(goods) * len(part) // len(self.new_variants)))
            progress(done)
        update_many(
            self.uow, variants, "id", self.changed_variants, {"version": variants.c.version + 1}
        )
        for start in range(0, len(self.new_barcodes), BATCH):
            part = self.new_barcodes[start : start + BATCH]
            insert_or_conflict(self.uow, barcodes.insert(), part, "a barcode is in use")
        progress(len(goods))

    def _product(self, good: Good, definitions: Mapping[str, model.AttributeDefinition]) -> None:
        r, given = good.row, good.given
        counts = self.w.counts
        stored = self.w.ex.products.get(r.code)
        fields: dict[str, Any] = {"name": r.name, "unit_code": r.unit}
        if stored is None or "description" in given:
            fields["description"] = r.description
        if stored is None or "brand" in given:
            fields["brand"] = r.brand
        if stored is None or "category" in given:
            fields["category_id"] = self.w.category_ids.get(r.category) if r.category else None
        if stored is None or "status" in given:
            fields["status"] = r.status
        if stored is None or "dimensions" in given:
            fields["dimensions"] = [d for d in model.DIMENSIONS if d in r.dimensions]
        if stored is None or "attributes" in given:
            fields["attributes"] = model.attribute_errors(r.attributes, definitions)[0]
        if stored is None:
            product_id = self.w.product_ids[r.code] = new_id()
            self.new_products.append(
                {
                    "id": product_id,
                    "code": r.code,
                    "version": 1,
                    "created_at": self.w.now,
                    "updated_at": self.w.now,
                    **fields,
                }
            )
            self.w.emit(
                "catalog.product_created",
                "product",
                product_id,
                code=r.code,
                name=r.name,
                skus=[v.sku for v in r.variants],
            )
            counts["products"].created += 1
            self._variants(product_id, r, {}, new_product=True)
            return
        diff = sorted(k for k, v in fields.items() if getattr(stored, k) != v)
        if diff:
            merged = {k: getattr(stored, k) for k in _PRODUCT_COLUMNS} | fields
            self.changed_products.append({"id": stored.id, **merged, "updated_at": self.w.now})
            self.w.emit(
                "catalog.product_updated",
                "product",
                stored.id,
                code=r.code,
                changed=[k.removesuffix("_id").removesuffix("_code") for k in diff],
                version=stored.version + 1,
            )
        current = {v.sku: v for v in self.w.ex.variants.get(r.code, [])}
        touched = self._variants(stored.id, r, current, new_product=False)
        if diff or touched:
            counts["products"].updated += 1
        else:
            counts["products"].unchanged += 1

    def _variants(
        self, product_id: str, r: Any, current: Mapping[str, Any], *, new_product: bool
    ) -> bool:
        """Queue variant and barcode writes; True if anything about them changes."""
        counts = self.w.counts
        touched = False
        for v in r.variants:
            price = _money(v.list_price, v.currency)
            stored = current.get(v.sku)
            fields = {
                "size": v.size,
                "colour": v.colour,
                "style": v.style,
                "list_price": price.amount,
                "currency": price.currency,
                "status": v.status
                if stored is None or "status" in v.model_fields_set
                else stored.status,
            }
            if stored is None:
                variant_id = new_id()
                self.new_variants.append(
                    {
                        "id": variant_id,
                        "product_id": product_id,
                        "sku": v.sku,
                        "version": 1,
                        "created_at": self.w.now,
                        "updated_at": self.w.now,
                        **fields,
                    }
                )
                if not new_product:
                    self.w.emit(
                        "catalog.variant_created",
                        "variant",
                        variant_id,
                        product_id=product_id,
                        sku=v.sku,
                        list_price=price.as_json(),
                    )
                counts["variants"].created += 1
                touched = True
                known: set[str] = set()
            else:
                variant_id = stored.id
                known = self.w.ex.barcodes.get(v.sku, set())
                diff = sorted(k for k, value in fields.items() if getattr(stored, k) != value)
                if diff:
                    self.changed_variants.append(
                        {"id": variant_id, **fields, "updated_at": self.w.now}
                    )
                    payload: dict[str, Any] = {"sku": v.sku, "product_id": product_id}
                    if "list_price" in diff or "currency" in diff:
                        payload["old_price"] = money(stored.list_price, stored.currency).as_json()
                        payload["list_price"] = price.as_json()
                    if "status" in diff:
                        payload["status"] = fields["status"]
                    self.w.emit("catalog.variant_updated", "variant", variant_id, **payload)
                    counts["variants"].updated += 1
                    touched = True
                else:
                    counts["variants"].unchanged += 1
            touched = (
                self._barcodes(variant_id, v.sku, v.barcodes, known, stored is None) or touched
            )
        return touched

    def _barcodes(
        self, variant_id: str, sku: str, codes: list[str], known: set[str], new_variant: bool
    ) -> bool:
        counts = self.w.counts
        added = False
        for raw in codes:
            parsed = model.parse_barcode(raw)
            if parsed.gtin in known:
                counts["barcodes"].unchanged += 1
                continue
            known = known | {parsed.gtin}
            self.new_barcodes.append(
                {
                    "gtin": parsed.gtin,
                    "code": parsed.code,
                    "kind": parsed.kind.value,
                    "variant_id": variant_id,
                }
            )
            if not new_variant:
                self.w.emit(
                    "catalog.barcode_added",
                    "variant",
                    variant_id,
                    sku=sku,
                    gtin=parsed.gtin,
                    code=parsed.code,
                )
            counts["barcodes"].created += 1
            added = True
        return added


_PRODUCT_COLUMNS = (
    "name",
    "description",
    "brand",
    "category_id",
    "unit_code",
    "status",
    "dimensions",
    "attributes",
)
