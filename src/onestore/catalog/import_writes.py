"""The write half of the importer: compare each good row with what is stored and write only
the differences, a section at a time, with ``executemany``.

Rows arrive already checked (``import_plan``), so nothing here validates; it decides created /
updated / unchanged, writes in dependency order (units and attributes, categories parents
first, locations, channels, products with variants and barcodes, assortments), and emits the
same ``catalog.*`` events as the API's use cases.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import delete, update

from onestore.catalog import model
from onestore.catalog.import_plan import Good, Plan
from onestore.catalog.import_products import ImportContext, ProductWriter
from onestore.catalog.network import LOCATION_FIELDS
from onestore.catalog.tables import (
    assortment_channels,
    assortment_lines,
    assortments,
    attribute_definitions,
    categories,
    channel_locations,
    channels,
    locations,
    units,
)
from onestore.catalog.writes import insert_or_conflict, update_many
from onestore.kernel.ids import new_id


class Writer(ImportContext):
    """Writes a checked plan, section by section, in dependency order."""

    def write(self, plan: Plan, *, progress: Callable[[int], None]) -> None:
        self.units(plan.good["units"])
        self.attributes(plan.good["attributes"])
        self.categories(plan.good["categories"])
        self.locations(plan.good["locations"])
        self.channels(plan.good["channels"])
        self.products(plan.good["products"], progress)
        self.assortments(plan.good["assortments"])

    # -- simple reference tables ------------------------------------------------------------
    def _upsert_by_code(
        self,
        section: str,
        table: Any,
        goods: list[Good],
        current: Mapping[str, Any],
        values: Callable[[Any], dict[str, Any]],
    ) -> None:
        new, changed = [], []
        for good in goods:
            row = values(good.row)
            stored = current.get(good.row.code)
            if stored is None:
                new.append(row)
                self.emit(f"catalog.{section}_created", section, good.row.code, **row)
            elif any(getattr(stored, k) != v for k, v in row.items()):
                changed.append(row)
                self.emit(f"catalog.{section}_updated", section, good.row.code, **row)
            else:
                self.counts[f"{section}s"].unchanged += 1
        if new:
            insert_or_conflict(self.uow, table.insert(), new, f"a {section} code is in use")
        update_many(self.uow, table, "code", changed)
        self.counts[f"{section}s"].created += len(new)
        self.counts[f"{section}s"].updated += len(changed)

    def units(self, goods: list[Good]) -> None:
        self._upsert_by_code(
            "unit",
            units,
            goods,
            self.ex.units,
            lambda r: {"code": r.code, "name": r.name, "decimals": r.decimals},
        )

    def attributes(self, goods: list[Good]) -> None:
        def values(r: Any) -> dict[str, Any]:
            choices = list(r.choices or []) if r.value_type == "choice" else None
            return {"code": r.code, "name": r.name, "value_type": r.value_type, "choices": choices}

        self._upsert_by_code("attribute", attribute_definitions, goods, self.ex.attributes, values)

    def categories(self, goods: list[Good]) -> None:
        parents = {code: r.parent_code for code, r in self.ex.categories.items()}
        parents.update({g.row.code: g.row.parent for g in goods})
        new, changed = [], []
        for good in goods:
            if good.row.code not in self.category_ids:
                self.category_ids[good.row.code] = new_id()
                new.append(good)
        # Parents before children, so every foreign key holds at every insert.
        new.sort(key=lambda g: len(model.ancestors(g.row.code, parents)))
        for good in new:
            r = good.row
            self.emit(
                "catalog.category_created",
                "category",
                self.category_ids[r.code],
                code=r.code,
                name=r.name,
                parent=r.parent,
            )
        rows = [
            {
                "id": self.category_ids[g.row.code],
                "code": g.row.code,
                "name": g.row.name,
                "parent_id": self.category_ids.get(g.row.parent) if g.row.parent else None,
                "created_at": self.now,
            }
            for g in new
        ]
        for row in rows:  # one at a time: a child may need the parent inserted just before
            insert_or_conflict(self.uow, categories.insert(), row, "a category code is in use")
        for good in goods:
            stored = self.ex.categories.get(good.row.code)
            if stored is None:
                continue
            if stored.name != good.row.name or stored.parent_code != good.row.parent:
                parent_id = self.category_ids.get(good.row.parent) if good.row.parent else None
                changed.append({"id": stored.id, "name": good.row.name, "parent_id": parent_id})
                self.emit(
                    "catalog.category_updated",
                    "category",
                    stored.id,
                    code=good.row.code,
                    name=good.row.name,
                    parent=good.row.parent,
                )
            else:
                self.counts["categories"].unchanged += 1
        update_many(self.uow, categories, "id", changed)
        self.counts["categories"].created += len(new)
        self.counts["categories"].updated += len(changed)

    def locations(self, goods: list[Good]) -> None:
        new, changed = [], []
        for good in goods:
            r = good.row
            stored = self.ex.locations.get(r.code)
            fields = {name: getattr(r, name) for name in LOCATION_FIELDS}
            if stored is None:
                location_id = self.location_ids[r.code] = new_id()
                new.append(
                    {
                        "id": location_id,
                        "code": r.code,
                        "kind": r.kind,
                        "country": r.country,
                        "created_at": self.now,
                        **fields,
                    }
                )
                self.emit(
                    "catalog.location_created",
                    "location",
                    location_id,
                    code=r.code,
                    name=r.name,
                    kind=r.kind,
                    country=r.country,
                )
                continue
            diff = sorted(k for k, v in fields.items() if getattr(stored, k) != v)
            if diff:
                changed.append({"id": stored.id, **fields})
                self.emit(
                    "catalog.location_updated", "location", stored.id, code=r.code, changed=diff
                )
            else:
                self.counts["locations"].unchanged += 1
        if new:
            insert_or_conflict(self.uow, locations.insert(), new, "a location code is in use")
        update_many(self.uow, locations, "id", changed)
        self.counts["locations"].created += len(new)
        self.counts["locations"].updated += len(changed)

    def channels(self, goods: list[Good]) -> None:
        new, changed, serving = [], [], []
        for good in goods:
            r = good.row
            stored = self.ex.channels.get(r.code)
            fields = {
                "name": r.name,
                "prices_include_tax": r.prices_include_tax,
                "is_active": r.is_active,
            }
            wanted = set(r.locations)
            if stored is None:
                channel_id = self.channel_ids[r.code] = new_id()
                new.append(
                    {
                        "id": channel_id,
                        "code": r.code,
                        "kind": r.kind,
                        "currency": r.currency,
                        "location_id": self.location_ids.get(r.location) if r.location else None,
                        "created_at": self.now,
                        **fields,
                    }
                )
                serving += [(channel_id, code) for code in sorted(wanted)]
                self.emit(
                    "catalog.channel_created",
                    "channel",
                    channel_id,
                    code=r.code,
                    kind=r.kind,
                    currency=r.currency,
                    locations=sorted(wanted),
                )
                continue
            diff = sorted(k for k, v in fields.items() if getattr(stored, k) != v)
            if wanted != self.ex.channel_serving.get(r.code, set()):
                diff.append("locations")
                self.uow.conn.execute(
                    delete(channel_locations).where(channel_locations.c.channel_id == stored.id)
                )
                serving += [(stored.id, code) for code in sorted(wanted)]
            if diff:
                changed.append({"id": stored.id, **fields})
                self.emit(
                    "catalog.channel_updated", "channel", stored.id, code=r.code, changed=diff
                )
            else:
                self.counts["channels"].unchanged += 1
        if new:
            insert_or_conflict(self.uow, channels.insert(), new, "a channel code is in use")
        update_many(self.uow, channels, "id", changed)
        if serving:
            self.uow.conn.execute(
                channel_locations.insert(),
                [{"channel_id": c, "location_id": self.location_ids[loc]} for c, loc in serving],
            )
        self.counts["channels"].created += len(new)
        self.counts["channels"].updated += len(changed)

    # -- products ---------------------------------------------------------------------------
    def products(self, goods: list[Good], progress: Callable[[int], None]) -> None:
        ProductWriter(self).write(goods, progress)

    # -- assortments ------------------------------------------------------------------------
    def assortments(self, goods: list[Good]) -> None:
        counts = self.counts["assortments"]
        for good in goods:
            r = good.row
            stored = self.ex.assortments.get(r.code)
            lines = {(ln.product or "", ln.category or "", ln.exclude) for ln in r.lines}
            wanted_channels = set(r.channels)
            head = {"name": r.name, "valid_from": r.valid_from, "valid_to": r.valid_to}
            if stored is None:
                assortment_id = new_id()
                self.uow.conn.execute(
                    assortments.insert(),
                    {"id": assortment_id, "code": r.code, "created_at": self.now, **head},
                )
                self._replace(assortment_id, wanted_channels, lines, fresh=True)
                self.emit(
                    "catalog.assortment_created",
                    "assortment",
                    assortment_id,
                    code=r.code,
                    channels=sorted(wanted_channels),
                    lines=len(lines),
                )
                counts.created += 1
                continue
            diff = sorted(k for k, v in head.items() if getattr(stored, k) != v)
            if wanted_channels != self.ex.assortment_channels.get(r.code, set()):
                diff.append("channels")
            if lines != self.ex.assortment_lines.get(r.code, set()):
                diff.append("lines")
            if not diff:
                counts.unchanged += 1
                continue
            self.uow.conn.execute(
                update(assortments).where(assortments.c.id == stored.id).values(**head)
            )
            self._replace(stored.id, wanted_channels, lines, fresh=False)
            self.emit(
                "catalog.assortment_updated", "assortment", stored.id, code=r.code, changed=diff
            )
            counts.updated += 1

    def _replace(
        self,
        assortment_id: str,
        channel_codes: set[str],
        lines: set[tuple[str, str, bool]],
        *,
        fresh: bool,
    ) -> None:
        conn = self.uow.conn
        if not fresh:
            conn.execute(
                delete(assortment_channels).where(
                    assortment_channels.c.assortment_id == assortment_id
                )
            )
            conn.execute(
                delete(assortment_lines).where(assortment_lines.c.assortment_id == assortment_id)
            )
        if channel_codes:
            conn.execute(
                assortment_channels.insert(),
                [
                    {"assortment_id": assortment_id, "channel_id": self.channel_ids[code]}
                    for code in sorted(channel_codes)
                ],
            )
        if lines:
            conn.execute(
                assortment_lines.insert(),
                [
                    {
                        "id": new_id(),
                        "assortment_id": assortment_id,
                        "product_id": self.product_ids[p] if p else None,
                        "category_id": self.category_ids[c] if c else None,
                        "exclude": exclude,
                    }
                    for p, c, exclude in sorted(lines)
                ],
            )
