"""Checking an import document against itself and the database, row by row.

Pure: it gets the document and a snapshot of what already exists (:class:`Existing`, loaded in
bulk by ``importing``) and returns, per section, the rows that are good and a
:class:`RowError` for every bad one — all of them, not the first. Each row is validated with
the API's own request models, so the importer and the API refuse the same things in the same
words. A row that refers to a bad row is bad too ("category 'x' is invalid in this
document"), which is what lets ``--skip-invalid`` import the rest safely.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError

from onestore.catalog import model
from onestore.catalog.schemas import (
    AssortmentIn,
    AttributeIn,
    CategoryIn,
    ChannelIn,
    LocationIn,
    ProductIn,
    UnitIn,
    VariantIn,
)
from onestore.kernel.errors import FieldError, ValidationFailed

FORMAT = "onestore.catalog/1"
SECTIONS: tuple[str, ...] = (
    "units",
    "attributes",
    "categories",
    "locations",
    "channels",
    "products",
    "assortments",
)
MAX_ROWS = 1_000_000
MAX_VARIANTS = 500


@dataclass(frozen=True, slots=True)
class RowError:
    """One reason one row was refused: where (``products[12].variants[3]`` or ``line 14``),
    which field (``barcodes[0]``, ``list_price``; empty for the row as a whole), and why."""

    location: str
    field: str
    reason: str

    def as_field_error(self) -> FieldError:
        sep = " " if self.location.startswith("line ") else "."
        return FieldError(
            f"{self.location}{sep}{self.field}" if self.field else self.location, self.reason
        )

    def __str__(self) -> str:
        return (
            f"{self.location}: {self.field}: {self.reason}"
            if self.field
            else (f"{self.location}: {self.reason}")
        )


Locator = Callable[[str, str], tuple[str, str]]
"""Maps (JSON location, field) to what the user's file calls it (the CSV reader's line/column)."""


def split_path(path: Sequence[str | int]) -> tuple[str, str]:
    """('variants', 3, 'barcodes', 0) -> ('variants[3]', 'barcodes[0]'): the last named key
    and its indexes are the field, everything before it locates the object."""
    names = [i for i, part in enumerate(path) if isinstance(part, str)]
    if not names:
        return _render(path), ""
    last = names[-1]
    return _render(path[:last]), _render(path[last:])


def _render(path: Sequence[str | int]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def dotted(field: str) -> tuple[str | int, ...]:
    """A model FieldError path ``variants.0.sku`` as parts ('variants', 0, 'sku')."""
    return tuple(int(p) if p.isdigit() else p for p in field.split(".") if p)


@dataclass
class Existing:
    """What the database already holds, keyed by code (only what the document touches)."""

    units: dict[str, Any] = field(default_factory=dict)
    attributes: dict[str, Any] = field(default_factory=dict)
    categories: dict[str, Any] = field(default_factory=dict)  # code -> row(id, parent_code...)
    locations: dict[str, Any] = field(default_factory=dict)
    channels: dict[str, Any] = field(default_factory=dict)
    channel_serving: dict[str, set[str]] = field(default_factory=dict)  # channel code -> codes
    products: dict[str, Any] = field(default_factory=dict)  # code -> row
    variants: dict[str, list[Any]] = field(default_factory=dict)  # product code -> rows
    barcodes: dict[str, set[str]] = field(default_factory=dict)  # sku -> gtins
    sku_owner: dict[str, str] = field(default_factory=dict)  # sku -> product code
    gtin_owner: dict[str, str] = field(default_factory=dict)  # gtin -> sku
    assortments: dict[str, Any] = field(default_factory=dict)
    assortment_channels: dict[str, set[str]] = field(default_factory=dict)
    assortment_lines: dict[str, set[tuple[str, str, bool]]] = field(default_factory=dict)


@dataclass
class Good:
    """A row that passed: where it came from, the validated model, fields the row gave."""

    location: str
    row: Any
    given: frozenset[str]


@dataclass
class Plan:
    good: dict[str, list[Good]] = field(default_factory=lambda: {s: [] for s in SECTIONS})
    errors: list[RowError] = field(default_factory=list)
    bad: dict[str, set[str]] = field(default_factory=lambda: {s: set() for s in SECTIONS})
    rows: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SECTIONS, 0))


class _Checker:
    def __init__(self, document: Mapping[str, Any], existing: Existing, locate: Locator) -> None:
        self.doc = document
        self.existing = existing
        self.locate = locate
        self.plan = Plan()
        self.codes: dict[str, dict[str, str]] = {s: {} for s in SECTIONS}  # good code -> loc

    # -- reporting --------------------------------------------------------------------------
    def error(self, location: str, field: str, reason: str) -> None:
        where, what = self.locate(location, field)
        self.plan.errors.append(RowError(where, what, reason))

    def at(self, base: str, path: Sequence[str | int], reason: str) -> None:
        location, field = split_path(path)
        self.error(f"{base}.{location}" if location else base, field, reason)

    def validated(self, base: str, schema: type[BaseModel], raw: Any) -> Any:
        if not isinstance(raw, dict):
            self.error(base, "", "must be a JSON object")
            return None
        try:
            return schema.model_validate(raw)
        except ValidationError as exc:
            for item in exc.errors():
                reason = "unknown field" if item["type"] == "extra_forbidden" else item["msg"]
                self.at(base, tuple(item["loc"]), str(reason))
            return None

    # -- references ---------------------------------------------------------------------------
    def ref_problem(self, section: str, code: str, what: str) -> str | None:
        if code in self.codes[section]:
            return None
        if code in self.plan.bad[section]:
            return f"{what} {code!r} is invalid in this document"
        if code in getattr(self.existing, section):
            return None
        return f"unknown {what} {code!r}; add it to {section} or create it first"

    def rows(self, section: str) -> Iterable[tuple[str, Any]]:
        raw = self.doc.get(section)
        if raw is None:
            return []
        if not isinstance(raw, list):
            self.error(section, "", "must be a list")
            return []
        if len(raw) > MAX_ROWS:
            self.error(section, "", f"at most {MAX_ROWS} rows")
            return []
        self.plan.rows[section] = len(raw)
        return [(f"{section}[{i}]", row) for i, row in enumerate(raw)]

    def accept(self, section: str, location: str, code: str, row: Any, ok: bool) -> None:
        if code in self.codes[section] or code in self.plan.bad[section]:
            first = self.codes[section].get(code, "an earlier row")
            self.error(location, "code", f"{code!r} appears twice (also {first})")
            ok = False
        if ok:
            self.codes[section][code] = location
            self.plan.good[section].append(Good(location, row, frozenset(row.model_fields_set)))
        elif code not in self.codes[section]:
            self.plan.bad[section].add(code)

    def count_errors(self) -> int:
        return len(self.plan.errors)

    # -- sections ---------------------------------------------------------------------------
    def units(self) -> None:
        for where, raw in self.rows("units"):
            row = self.validated(where, UnitIn, raw)
            if row is None:
                self._mark_bad("units", raw)
            else:
                self.accept("units", where, row.code, row, True)

    def attributes(self) -> None:
        for where, raw in self.rows("attributes"):
            row = self.validated(where, AttributeIn, raw)
            if row is None:
                self._mark_bad("attributes", raw)
                continue
            before = self.count_errors()
            current = self.existing.attributes.get(row.code)
            if current is not None:
                if current.value_type != row.value_type:
                    self.error(where, "value_type", f"cannot change from {current.value_type}")
                dropped = [c for c in (current.choices or []) if c not in (row.choices or [])]
                if dropped:
                    self.error(where, "choices", f"cannot remove {', '.join(dropped)}")
            self.accept("attributes", where, row.code, row, self.count_errors() == before)

    def _mark_bad(self, section: str, raw: Any) -> None:
        if isinstance(raw, dict) and isinstance(raw.get("code"), str):
            self.plan.bad[section].add(raw["code"])

    def categories(self) -> None:
        parents = {code: row.parent_code for code, row in self.existing.categories.items()}
        pending: list[tuple[str, Any]] = []
        for where, raw in self.rows("categories"):
            row = self.validated(where, CategoryIn, raw)
            if row is None:
                self._mark_bad("categories", raw)
            else:
                pending.append((where, row))
        for _, row in pending:  # the document's tree wins over the stored one
            parents[row.code] = row.parent
        looped = model.categories_in_cycles(parents)
        for where, row in pending:
            before = self.count_errors()
            bad = self.plan.bad["categories"]
            if row.parent is not None and row.parent not in parents and row.parent not in bad:
                self.error(where, "parent", f"unknown category {row.parent!r}")
            if row.code in looped:
                self.error(where, "parent", f"{row.parent!r} makes a loop in the category tree")
            self.accept("categories", where, row.code, row, self.count_errors() == before)
        # A category below a bad one is bad too (repeat until nothing changes: any depth).
        changed = True
        while changed:
            changed = False
            for good in list(self.plan.good["categories"]):
                parent = good.row.parent
                if parent is not None and parent in self.plan.bad["categories"]:
                    self.error(good.location, "parent", f"category {parent!r} is invalid")
                    self.plan.good["categories"].remove(good)
                    self.codes["categories"].pop(good.row.code, None)
                    self.plan.bad["categories"].add(good.row.code)
                    changed = True

    def locations(self) -> None:
        for where, raw in self.rows("locations"):
            row = self.validated(where, LocationIn, raw)
            if row is None:
                self._mark_bad("locations", raw)
                continue
            before = self.count_errors()
            current = self.existing.locations.get(row.code)
            if current is not None:
                for name in ("kind", "country"):
                    if getattr(current, name) != getattr(row, name):
                        self.error(where, name, f"cannot change from {getattr(current, name)}")
            self.accept("locations", where, row.code, row, self.count_errors() == before)

    def _location_kind(self, code: str) -> str | None:
        if code in self.codes["locations"]:
            good = next(g for g in self.plan.good["locations"] if g.row.code == code)
            return str(good.row.kind)
        current = self.existing.locations.get(code)
        return None if current is None else str(current.kind)

    def channels(self) -> None:
        for where, raw in self.rows("channels"):
            row = self.validated(where, ChannelIn, raw)
            if row is None:
                self._mark_bad("channels", raw)
                continue
            before = self.count_errors()
            if row.location is not None:
                problem = self.ref_problem("locations", row.location, "location")
                if problem:
                    self.error(where, "location", problem)
            if self.count_errors() == before:
                kind = self._location_kind(row.location) if row.location else None
                for err in model.channel_location_errors(row.kind, kind, row.location is not None):
                    self.error(where, err.field, err.reason)
            for i, code in enumerate(row.locations):
                problem = self.ref_problem("locations", code, "location")
                if problem:
                    self.error(where, f"locations[{i}]", problem)
            current = self.existing.channels.get(row.code)
            if current is not None:
                for name, now in (
                    ("kind", current.kind),
                    ("currency", current.currency),
                    ("location", current.location_code),
                ):
                    if getattr(row, name) != now:
                        self.error(where, name, f"cannot change from {now}")
            self.accept("channels", where, row.code, row, self.count_errors() == before)

    def products(self, progress: Callable[[int], None]) -> None:
        definitions = self._definitions()
        sku_seen: dict[str, str] = {}
        gtin_seen: dict[str, str] = {}
        for n, (where, raw) in enumerate(self.rows("products"), start=1):
            row, positions, whole = self._product_parts(where, raw)
            if row is None:
                self._mark_bad("products", raw)
            else:
                before = self.count_errors()
                self._product(where, row, positions, definitions, sku_seen, gtin_seen)
                ok = whole and self.count_errors() == before
                self.accept("products", where, row.code, row, ok)
            progress(n)

    def _product_parts(self, where: str, raw: Any) -> tuple[ProductIn | None, list[int], bool]:
        """The product and each variant validated on their own, so one bad variant (one CSV
        line) does not hide what is wrong with its siblings. Returns the product with its
        valid variants, their positions in the row, and whether every part was valid."""
        if not isinstance(raw, dict):
            self.error(where, "", "must be a JSON object")
            return None, [], False
        whole = True
        raw_variants = raw.get("variants", [])
        if not isinstance(raw_variants, list) or len(raw_variants) > MAX_VARIANTS:
            self.error(where, "variants", f"must be a list of at most {MAX_VARIANTS} variants")
            raw_variants, whole = [], False
        product = self.validated(
            where, ProductIn, {k: v for k, v in raw.items() if k != "variants"}
        )
        variants, positions = [], []
        for i, raw_variant in enumerate(raw_variants):
            variant = self.validated(f"{where}.variants[{i}]", VariantIn, raw_variant)
            if variant is None:
                whole = False
            else:
                variants.append(variant)
                positions.append(i)
        if product is None:
            return None, [], False
        product.variants = variants
        return product, positions, whole

    def _definitions(self) -> dict[str, model.AttributeDefinition]:
        found = {code: model.definition_of(r) for code, r in self.existing.attributes.items()}
        for good in self.plan.good["attributes"]:
            found[good.row.code] = model.definition_of(good.row)
        for code in self.plan.bad["attributes"]:
            found.pop(code, None)
        return found

    def _product(
        self,
        where: str,
        row: ProductIn,
        positions: list[int],
        definitions: Mapping[str, model.AttributeDefinition],
        sku_seen: dict[str, str],
        gtin_seen: dict[str, str],
    ) -> None:
        for name, section, what in (
            ("category", "categories", "category"),
            ("unit", "units", "unit"),
        ):
            code = getattr(row, name)
            problem = code is not None and self.ref_problem(section, code, what)
            if problem:
                self.error(where, name, problem)
        if "attributes" in row.model_fields_set:
            for err in model.attribute_errors(row.attributes, definitions)[1]:
                self.at(where, dotted(err.field), err.reason)
        current = self.existing.products.get(row.code)
        existing_variants = self.existing.variants.get(row.code, [])
        if current is not None and "dimensions" not in row.model_fields_set:
            row.dimensions = list(current.dimensions)
        elif (
            current is not None
            and existing_variants
            and [d for d in model.DIMENSIONS if d in row.dimensions] != list(current.dimensions)
        ):
            self.error(where, "dimensions", "cannot change once the product has variants")

        def at_variant(field: str, reason: str) -> None:
            path = dotted(field)
            if len(path) > 1 and path[0] == "variants" and isinstance(path[1], int):
                path = ("variants", positions[path[1]], *path[2:])
            self.at(where, path, reason)

        for err in model.draft_errors(row.to_draft()):
            at_variant(err.field, err.reason)
        in_doc = {v.sku for v in row.variants}
        kept = [
            model.combination({"size": v.size, "colour": v.colour, "style": v.style})
            for v in existing_variants
            if v.sku not in in_doc
        ]
        values = [{"size": v.size, "colour": v.colour, "style": v.style} for v in row.variants]
        for err in model.combination_errors(values, kept, within=False):
            at_variant(err.field, err.reason)
        for i, variant in enumerate(row.variants):
            here = f"{where}.variants[{positions[i]}]"
            owner = self.existing.sku_owner.get(variant.sku)
            if owner is not None and owner != row.code:
                self.error(here, "sku", f"SKU {variant.sku!r} belongs to product {owner}")
            if variant.sku in sku_seen and sku_seen[variant.sku] != where:
                self.error(here, "sku", f"SKU {variant.sku!r} is also in {sku_seen[variant.sku]}")
            sku_seen.setdefault(variant.sku, where)
            for j, raw_code in enumerate(variant.barcodes):
                try:
                    gtin = model.parse_barcode(raw_code).gtin
                except ValidationFailed:  # already reported by draft_errors
                    continue
                holder = self.existing.gtin_owner.get(gtin)
                if holder is not None and holder != variant.sku:
                    self.error(here, f"barcodes[{j}]", f"barcode {gtin} belongs to {holder}")
                other = gtin_seen.get(gtin)
                if other is not None and other != here:
                    self.error(here, f"barcodes[{j}]", f"barcode {gtin} is also in {other}")
                gtin_seen.setdefault(gtin, here)

    def assortments(self) -> None:
        for where, raw in self.rows("assortments"):
            row = self.validated(where, AssortmentIn, raw)
            if row is None:
                self._mark_bad("assortments", raw)
                continue
            before = self.count_errors()
            for i, code in enumerate(row.channels):
                problem = self.ref_problem("channels", code, "channel")
                if problem:
                    self.error(where, f"channels[{i}]", problem)
            for i, line in enumerate(row.lines):
                if line.product is not None:
                    problem = self.ref_problem("products", line.product, "product")
                    name = "product"
                else:
                    problem = self.ref_problem("categories", line.category or "", "category")
                    name = "category"
                if problem:
                    self.error(f"{where}.lines[{i}]", name, problem)
            self.accept("assortments", where, row.code, row, self.count_errors() == before)


def check_document(
    document: Any,
    existing: Existing,
    *,
    locate: Locator | None = None,
    progress: Callable[[int], None] | None = None,
) -> Plan:
    """Validate every row of ``document`` against itself and ``existing``."""
    checker = _Checker(
        document if isinstance(document, dict) else {},
        existing,
        locate or (lambda loc, fld: (loc, fld)),
    )
    if not isinstance(document, dict):
        checker.error("document", "", "must be a JSON object")
        return checker.plan
    if document.get("format") != FORMAT:
        checker.error("document", "format", f'must be "{FORMAT}"')
    for key in sorted(set(document) - {"format", *SECTIONS}):
        checker.error("document", key, "unknown section")
    checker.units()
    checker.attributes()
    checker.categories()
    checker.locations()
    checker.channels()
    checker.products(progress or (lambda _n: None))
    checker.assortments()
    return checker.plan
