"""The CSV form of the catalog: products only, one row per variant.

Columns: ``product_code,product_name,category,brand,unit,status,description,sku,size,colour,
style,list_price,currency,barcodes`` (barcodes separated by ``|``). A product's rows must agree
on the product columns (the first row wins; a later row that differs is an error on its line).
Its dimensions are inferred from which of size/colour/style are non-empty across its variant
rows; a product with no variant rows (only rows with an empty ``sku``: product fields only, say
a rename) says nothing about dimensions, so the stored ones are kept. An empty product cell
(``category``, ``brand``, ``status``, ``description``) keeps the stored value — a CSV cannot
clear one; use JSON or the API for that. CSV has no attributes column, so an imported CSV never
changes a product's attributes.

Reading turns the file into an ``onestore.catalog/1`` document plus a *locator* that maps the
importer's JSON-path errors (``products[3].variants[1]``, ``list_price``) back to the user's
file (``line 9``, ``list_price``), so every error names a line and a column.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any

from onestore.catalog import model
from onestore.catalog.import_plan import FORMAT, RowError

COLUMNS: tuple[str, ...] = (
    "product_code",
    "product_name",
    "category",
    "brand",
    "unit",
    "status",
    "description",
    "sku",
    "size",
    "colour",
    "style",
    "list_price",
    "currency",
    "barcodes",
)
PRODUCT_COLUMNS = (
    "product_code",
    "product_name",
    "category",
    "brand",
    "unit",
    "status",
    "description",
)
_PRODUCT_FIELD = {
    "code": "product_code",
    "name": "product_name",
    "category": "category",
    "brand": "brand",
    "unit": "unit",
    "status": "status",
    "description": "description",
    "dimensions": "size",
}
MAX_FIELD = 10_000


@dataclass
class CsvDocument:
    document: dict[str, Any]
    errors: list[RowError] = field(default_factory=list)
    product_lines: list[int] = field(default_factory=list)  # products[i] -> its first line
    variant_lines: list[list[int]] = field(default_factory=list)  # products[i].variants[j]

    def locate(self, location: str, field_name: str) -> tuple[str, str]:
        """(``products[3].variants[1]``, ``barcodes[0]``) -> (``line 9``, ``barcodes``)."""
        parts = location.replace("]", "").split(".")
        try:
            i = int(parts[0].split("[")[1])
            line = self.product_lines[i]
            column = _PRODUCT_FIELD.get(field_name.split("[")[0], field_name)
            if len(parts) > 1 and parts[1].startswith("variants["):
                line = self.variant_lines[i][int(parts[1].split("[")[1])]
                column = field_name.split("[")[0]
            elif field_name.startswith("variants["):
                line = self.variant_lines[i][int(field_name[9:].split("]")[0])]
                column = ""
        except (IndexError, ValueError):
            return location, field_name
        return f"line {line}", column


def read_csv(text: str) -> CsvDocument:
    """Parse CSV text into a document, recording every problem found while reading."""
    csv.field_size_limit(MAX_FIELD)
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    result = CsvDocument(document={"format": FORMAT, "products": []})
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        result.errors.append(RowError("line 1", "", "the file is empty; expected a header row"))
        return result
    except csv.Error as exc:
        result.errors.append(RowError("line 1", "", f"not valid CSV: {exc}"))
        return result
    missing = [c for c in COLUMNS if c not in header]
    unknown = [h for h in header if h not in COLUMNS]
    for name in missing:
        result.errors.append(RowError("line 1", name, "missing column"))
    for name in unknown:
        result.errors.append(RowError("line 1", name, "unknown column"))
    if missing or unknown:
        return result
    by_code: dict[str, int] = {}
    try:
        for values in reader:
            line = reader.line_num
            if not any(v.strip() for v in values):
                continue
            if len(values) != len(header):
                result.errors.append(
                    RowError(f"line {line}", "", f"has {len(values)} fields, not {len(header)}")
                )
                continue
            _add_row(result, dict(zip(header, values, strict=True)), line, by_code)
    except csv.Error as exc:
        result.errors.append(RowError(f"line {reader.line_num}", "", f"not valid CSV: {exc}"))
    for product in result.document["products"]:
        variants = product["variants"]
        if variants:  # product-only rows say nothing about dimensions: keep the stored ones
            product["dimensions"] = [d for d in model.DIMENSIONS if any(v.get(d) for v in variants)]
    return result


def _optional(value: str) -> str | None:
    value = value.strip()
    return value or None


def _add_row(result: CsvDocument, row: dict[str, str], line: int, by_code: dict[str, int]) -> None:
    code = row["product_code"].strip()
    products: list[dict[str, Any]] = result.document["products"]
    if code in by_code:
        index = by_code[code]
        first = result.product_lines[index]
        product = products[index]
        clashes = [
            column
            for column in PRODUCT_COLUMNS[1:]
            if row[column].strip() and row[column].strip() != _first_value(product, column)
        ]
        for column in clashes:
            result.errors.append(
                RowError(f"line {line}", column, f"differs from line {first} of {code}")
            )
        if clashes:  # the line is refused as a whole (--skip-invalid leaves it out)
            return
    else:
        by_code[code] = len(products)
        product = {
            "code": code,
            "name": row["product_name"].strip(),
            "unit": row["unit"].strip(),
            "variants": [],
        }
        for column in ("brand", "category", "status", "description"):  # empty = keep stored
            if row[column].strip():
                product[column] = row[column].strip()
        products.append(product)
        result.product_lines.append(line)
        result.variant_lines.append([])
    if not row["sku"].strip():
        return
    variant: dict[str, Any] = {
        "sku": row["sku"].strip(),
        "size": _optional(row["size"]),
        "colour": _optional(row["colour"]),
        "style": _optional(row["style"]),
        "list_price": row["list_price"].strip(),
        "currency": row["currency"].strip(),
        "barcodes": [b.strip() for b in row["barcodes"].split("|") if b.strip()],
    }
    product["variants"].append(variant)
    result.variant_lines[by_code[code]].append(line)


def _first_value(product: dict[str, Any], column: str) -> str:
    key = {"product_name": "name"}.get(column, column)
    value = product.get(key)
    return "" if value is None else str(value)


def write_csv(document: dict[str, Any]) -> str:
    """The products of a document as CSV (what ``onestore export catalog --format csv`` writes)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for p in document.get("products", []):
        head = [
            p["code"],
            p["name"],
            p.get("category") or "",
            p.get("brand") or "",
            p["unit"],
            p.get("status") or "",
            p.get("description") or "",
        ]
        if not p.get("variants"):
            writer.writerow(head + [""] * 7)
        for v in p.get("variants", []):
            writer.writerow(
                [
                    *head,
                    v["sku"],
                    v.get("size") or "",
                    v.get("colour") or "",
                    v.get("style") or "",
                    v["list_price"],
                    v["currency"],
                    "|".join(v.get("barcodes", [])),
                ]
            )
    return out.getvalue()
