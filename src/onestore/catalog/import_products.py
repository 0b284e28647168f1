"""Writing imported products, variants and barcodes: compare with what is stored, then insert
and update in batches with ``executemany``; and :class:`ImportContext`, what every section
writer of an import shares.

A field the row does not give (``description``, ``attributes``, a variant's ``status``...) keeps
its stored value, so a CSV file — which has no attributes column — never wipes attributes. An
update writes only the columns that differ. The stored rows compared against were read under
a row lock (``importing.load_existing``), so nothing changes them before this writes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

from onestore.catalog import model
from onestore.catalog.import_plan import Existing, Good
from onestore.catalog.queries import money
from onestore.catalog.reference import attribute_definitions_by_code
from onestore.catalog.tables import barcodes, products, variants
from onestore.catalog.writes import insert_or_conflict, update_many
from onestore.db.uow import UnitOfWork
from onestore.kernel.events import DomainEvent
from onestore.kernel.ids import new_id
from onestore.kernel.money import Money

BATCH = 500


class Counts(Protocol):
    created: int
    updated: int
    unchanged: int


class ImportContext:
    """What the section writers of one import share: the unit of work, the snapshot compared
    against, the per-section counters, and the ids of everything by code (filled in as new
    rows get ids, so later sections can refer to them)."""

    def __init__(self, uow: UnitOfWork, existing: Existing, counts: Mapping[str, Counts]) -> None:
        self.uow = uow
        self.ex = existing
        self.counts = counts
        self.now = uow.now()
        self.category_ids = {code: r.id for code, r in existing.categories.items()}
        self.location_ids = {code: r.id for code, r in existing.locations.items()}
        self.channel_ids = {code: r.id for code, r in existing.channels.items()}
        self.product_ids = {code: r.id for code, r in existing.products.items()}

    def emit(self, event_type: str, aggregate: str, aggregate_id: str, **payload: Any) -> None:
        self.uow.emit(DomainEvent(event_type, aggregate, aggregate_id, payload))


def _money(amount: Any, currency: str) -> Money:
    return model.parse_price(
        str(amount), currency, amount_field="list_price", currency_field="currency"
    )


class ProductWriter:
    def __init__(self, writer: ImportContext) -> None:
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
            changed = {k: fields[k] for k in diff}
            self.changed_products.append({"id": stored.id, **changed, "updated_at": self.w.now})
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
                    changed = {k: fields[k] for k in diff}
                    self.changed_variants.append(
                        {"id": variant_id, **changed, "updated_at": self.w.now}
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
