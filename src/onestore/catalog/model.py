"""Catalog rules and the read views other contexts and the pages build on.

Pure: no SQLAlchemy, no HTTP, no clock reads — everything arrives as arguments, so every rule
here is unit-tested in microseconds and reused unchanged by the API, the importer and the CLI.
Rules that reject input raise (or return) :class:`~onestore.kernel.errors.FieldError`s naming
the field, because the same rule must report "which field and why" on every path.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from functools import lru_cache
from typing import Any

from stdnum import ean
from stdnum.exceptions import InvalidChecksum, InvalidFormat, InvalidLength, ValidationError

from onestore.catalog.views import (  # noqa: F401 - re-exported: the read views live with the model
    BarcodeHit,
    BarcodeView,
    ProductDetail,
    ProductPage,
    ProductSummary,
    VariantView,
)
from onestore.kernel.errors import FieldError, ValidationFailed
from onestore.kernel.money import MAX_AMOUNT, Money, minor_units, validate_currency

# -- vocabularies ---------------------------------------------------------------------------------
DIMENSIONS: tuple[str, ...] = ("size", "colour", "style")
"""What a product's variants may differ on, in canonical order."""

PRODUCT_STATUSES: tuple[str, ...] = ("draft", "active", "discontinued")
VARIANT_STATUSES: tuple[str, ...] = ("active", "discontinued")
LOCATION_KINDS: tuple[str, ...] = ("dc", "store", "vendor")
CHANNEL_KINDS: tuple[str, ...] = ("store", "web", "call_center", "marketplace", "mobile")


class AttributeType(StrEnum):
    TEXT = "text"
    NUMBER = "number"
    BOOLEAN = "boolean"
    CHOICE = "choice"


_CODE_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def code_problem(value: str, max_length: int) -> str | None:
    """Why ``value`` cannot be a code (product code, SKU, category code...), or None.

    Codes appear in URLs (``/variants/{sku}``) and file names, so they are limited to letters,
    digits, ``.``, ``_`` and ``-``, starting with a letter or digit.
    """
    if not value:
        return "must not be empty"
    if len(value) > max_length:
        return f"must be at most {max_length} characters"
    if not _CODE_RE.fullmatch(value):
        return "use letters, digits, '.', '_' or '-', starting with a letter or digit"
    return None


# -- barcodes -------------------------------------------------------------------------------------
class BarcodeKind(StrEnum):
    EAN8 = "EAN-8"
    UPCA = "UPC-A"
    EAN13 = "EAN-13"
    GTIN14 = "GTIN-14"


_KIND_BY_LENGTH = {
    8: BarcodeKind.EAN8,
    12: BarcodeKind.UPCA,
    13: BarcodeKind.EAN13,
    14: BarcodeKind.GTIN14,
}
MAX_BARCODE_INPUT = 32


@dataclass(frozen=True, slots=True)
class Gtin:
    """A validated barcode: the digits as printed, the GTIN-14 it is stored under, its kind."""

    code: str
    gtin: str
    kind: BarcodeKind


def parse_barcode(raw: str, field: str = "barcode") -> Gtin:
    """Validate an EAN-8 / UPC-A / EAN-13 / GTIN-14 and give its GTIN-14 (left-padded with 0s).

    Storing the GTIN-14 means a scanner that reports a UPC-A as 12 digits, one that reports it
    as EAN-13 with a leading 0, and a feed that sends the 14-digit form all find one variant.
    Spaces and hyphens people type are ignored.
    """
    if len(raw) > MAX_BARCODE_INPUT:
        raise ValidationFailed.on(field, f"must be at most {MAX_BARCODE_INPUT} characters")
    parsed = _parse_gtin(raw)
    if isinstance(parsed, str):
        raise ValidationFailed.on(field, parsed)
    return parsed


@lru_cache(maxsize=65_536)
def _parse_gtin(raw: str) -> Gtin | str:
    """The Gtin or the reason it is not one. Cached: an import checks each code several times
    and python-stdnum's cleaning is slow enough to show up at 10,000 barcodes."""
    digits = ean.compact(raw)
    try:
        ean.validate(digits)
    except InvalidLength:  # before InvalidFormat: stdnum makes it a subclass of it
        return "must have 8, 12, 13 or 14 digits (EAN-8, UPC-A, EAN-13 or GTIN-14)"
    except InvalidFormat:
        return f"{raw!r} must contain only digits"
    except InvalidChecksum:
        expected = ean.calc_check_digit(digits[:-1])
        return f"check digit of {digits} is wrong (expected {expected}, got {digits[-1]})"
    except ValidationError:  # pragma: no cover - stdnum raises only the three above here
        return "is not a valid GTIN"
    return Gtin(code=digits, gtin=digits.rjust(14, "0"), kind=_KIND_BY_LENGTH[len(digits)])


def with_check_digit(body: str) -> str:
    """``body`` plus its GS1 check digit (the demo and tests make valid codes with it)."""
    return body + ean.calc_check_digit(body)


# -- prices ---------------------------------------------------------------------------------------
MONEY_STRING_REASON = 'must be a decimal string such as "12.50", not a JSON number'


def price_amount(amount: object, field: str = "list_price") -> Decimal:
    """The amount of a price as typed: a decimal string, finite, not negative, not absurd.

    JSON numbers are refused so that no client ever gets used to sending floats.
    """
    if not isinstance(amount, str):
        raise ValidationFailed.on(field, MONEY_STRING_REASON)
    text = amount.strip()
    if len(text) > 32:
        raise ValidationFailed.on(field, "must be at most 32 characters")
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValidationFailed.on(field, f"{amount!r} is not a decimal number") from None
    if not value.is_finite():
        raise ValidationFailed.on(field, "must be a finite number")
    if value < 0:
        raise ValidationFailed.on(field, "must not be negative")
    if value > MAX_AMOUNT:
        raise ValidationFailed.on(field, f"must be at most {MAX_AMOUNT}")
    return value


def parse_price(
    amount: object, currency: object, *, amount_field: str, currency_field: str
) -> Money:
    """A list price from input: :func:`price_amount` in a known currency, with no more
    decimals than that currency has (12.345 USD is refused, never silently rounded)."""
    code = validate_currency(currency, field=currency_field)
    value = price_amount(amount, amount_field)
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > minor_units(code):
        raise ValidationFailed.on(
            amount_field, f"{code} allows at most {minor_units(code)} decimal places"
        )
    return Money.of(value, code, field=amount_field)


# -- variant dimensions ---------------------------------------------------------------------------
def check_dimensions(dimensions: Sequence[str], field: str = "dimensions") -> tuple[str, ...]:
    """The product's dimensions in canonical order; unknown or repeated ones are refused."""
    seen: list[str] = []
    for i, name in enumerate(dimensions):
        if name not in DIMENSIONS:
            raise ValidationFailed.on(f"{field}.{i}", f"must be one of {', '.join(DIMENSIONS)}")
        if name in seen:
            raise ValidationFailed.on(f"{field}.{i}", f"{name!r} is listed twice")
        seen.append(name)
    return tuple(d for d in DIMENSIONS if d in seen)


def variant_dimension_errors(
    dimensions: Sequence[str], values: Mapping[str, str | None], prefix: str = ""
) -> list[FieldError]:
    """A variant must set exactly the product's dimensions: each one non-empty, no others."""
    errors = []
    for name in DIMENSIONS:
        value = values.get(name)
        if name in dimensions and not value:
            errors.append(FieldError(f"{prefix}{name}", f"required: the product varies by {name}"))
        elif name not in dimensions and value:
            errors.append(
                FieldError(f"{prefix}{name}", f"must be empty: the product does not vary by {name}")
            )
    return errors


def combination(values: Mapping[str, str | None]) -> tuple[str | None, ...]:
    return tuple(values.get(name) or None for name in DIMENSIONS)


def combination_errors(
    variants: Sequence[Mapping[str, str | None]],
    existing: Iterable[tuple[str | None, ...]] = (),
    *,
    prefix: str = "variants",
    within: bool = True,
) -> list[FieldError]:
    """No two variants of a product may share a size/colour/style combination: each of
    ``variants`` is checked against the ``existing`` (stored) combinations and, if ``within``,
    against the ones before it in ``variants``.

    Checked here rather than left to the database because SQL unique constraints treat NULLs as
    distinct, so two variants of a product with no "style" would slip past them. ``within`` is
    off for the importer, which reports clashes inside a document on their own lines.
    """
    taken = dict.fromkeys(existing, "another variant")
    errors = []
    for i, values in enumerate(variants):
        combo = combination(values)
        if combo in taken:
            shown = "/".join(v for v in combo if v) or "(no dimensions)"
            errors.append(
                FieldError(
                    f"{prefix}.{i}", f"combination {shown} is already used by {taken[combo]}"
                )
            )
        elif within:
            taken[combo] = f"{prefix}.{i}"
    return errors


# -- attributes -----------------------------------------------------------------------------------
MAX_ATTRIBUTE_TEXT = 500
MAX_CHOICE = 100
MAX_CHOICES = 200


@dataclass(frozen=True, slots=True)
class AttributeDefinition:
    code: str
    name: str
    value_type: AttributeType
    choices: tuple[str, ...] = ()


def definition_of(row: Any) -> AttributeDefinition:
    """The definition held by anything with ``code``, ``name``, ``value_type`` and ``choices``
    (a stored row or an import row), so every reader builds it the same way."""
    return AttributeDefinition(
        row.code, row.name, AttributeType(row.value_type), tuple(row.choices or ())
    )


def definition_errors(
    value_type: str, choices: Sequence[str] | None, prefix: str = ""
) -> list[FieldError]:
    """A "choice" attribute lists 1..200 distinct choices; other types list none."""
    if value_type not in tuple(AttributeType):
        kinds = ", ".join(AttributeType)
        return [FieldError(f"{prefix}value_type", f"must be one of {kinds}")]
    if value_type != AttributeType.CHOICE:
        if choices:
            return [FieldError(f"{prefix}choices", "only a 'choice' attribute has choices")]
        return []
    if not choices:
        return [FieldError(f"{prefix}choices", "a 'choice' attribute needs at least one choice")]
    if len(choices) > MAX_CHOICES:
        return [FieldError(f"{prefix}choices", f"at most {MAX_CHOICES} choices")]
    errors = []
    for i, choice in enumerate(choices):
        if not choice or len(choice) > MAX_CHOICE:
            errors.append(FieldError(f"{prefix}choices.{i}", f"must be 1-{MAX_CHOICE} characters"))
        elif choice in choices[:i]:
            errors.append(FieldError(f"{prefix}choices.{i}", f"{choice!r} is listed twice"))
    return errors


def attribute_value(definition: AttributeDefinition, value: Any, field: str) -> Any:
    """Check one value against its definition; returns the value as stored (JSON-safe).

    Numbers are stored as canonical decimal strings because the JSON column would otherwise
    turn them into floats; booleans must be real booleans, not "yes".
    """
    kind = definition.value_type
    if kind is AttributeType.TEXT:
        if not isinstance(value, str) or len(value) > MAX_ATTRIBUTE_TEXT:
            raise ValidationFailed.on(field, f"must be text of at most {MAX_ATTRIBUTE_TEXT} chars")
        return value
    if kind is AttributeType.BOOLEAN:
        if not isinstance(value, bool):
            raise ValidationFailed.on(field, "must be true or false")
        return value
    if kind is AttributeType.NUMBER:
        if isinstance(value, bool) or not isinstance(value, int | Decimal | str):
            raise ValidationFailed.on(field, "must be a number")
        try:
            number = Decimal(value.strip() if isinstance(value, str) else value)
        except InvalidOperation:
            raise ValidationFailed.on(field, f"{value!r} is not a number") from None
        if not number.is_finite() or abs(number) > MAX_AMOUNT:
            raise ValidationFailed.on(field, "must be a finite number of sensible size")
        text = format(number.normalize(), "f")
        return "0" if text in ("-0", "0") else text
    if not isinstance(value, str) or value not in definition.choices:
        raise ValidationFailed.on(field, f"must be one of {', '.join(definition.choices)}")
    return value


def attribute_errors(
    values: Mapping[str, Any],
    definitions: Mapping[str, AttributeDefinition],
    prefix: str = "attributes",
) -> tuple[dict[str, Any], list[FieldError]]:
    """Check product attributes against their definitions; returns (normalised, errors)."""
    clean: dict[str, Any] = {}
    errors: list[FieldError] = []
    for code in sorted(values):
        where = f"{prefix}.{code}"
        definition = definitions.get(code)
        if definition is None:
            errors.append(FieldError(where, f"unknown attribute {code!r}; define it first"))
            continue
        try:
            clean[code] = attribute_value(definition, values[code], where)
        except ValidationFailed as err:
            errors.extend(err.errors)
    return clean, errors


# -- categories -----------------------------------------------------------------------------------
def ancestors(category_id: str, parents: Mapping[str, str | None]) -> list[str]:
    """``category_id`` and its ancestors, nearest first (stops if the data holds a cycle)."""
    chain: list[str] = []
    current: str | None = category_id
    while current is not None and current not in chain:
        chain.append(current)
        current = parents.get(current)
    return chain


def creates_cycle(
    category_id: str, new_parent: str | None, parents: Mapping[str, str | None]
) -> bool:
    """Would making ``new_parent`` the parent of ``category_id`` put a loop in the tree?"""
    return new_parent is not None and category_id in ancestors(new_parent, parents)


def categories_in_cycles(parents: Mapping[str, str | None]) -> set[str]:
    """Every category that is its own ancestor (the importer reports each one)."""
    looped: set[str] = set()
    for start in parents:
        seen: list[str] = []
        current: str | None = start
        while current is not None and current not in seen:
            seen.append(current)
            current = parents.get(current)
        if current is not None:
            looped.update(seen[seen.index(current) :])
    return looped


# -- assortments ----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class AssortmentLine:
    """Exactly one of ``product_id`` / ``category_id``; a category includes its sub-categories."""

    product_id: str | None = None
    category_id: str | None = None
    exclude: bool = False


@dataclass(frozen=True, slots=True)
class AssortmentRule:
    id: str
    valid_from: date | None
    valid_to: date | None
    lines: tuple[AssortmentLine, ...]

    def valid_on(self, day: date) -> bool:
        """Both ends inclusive; an open end means "always"."""
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_to is None or day <= self.valid_to
        )


def date_range_errors(valid_from: date | None, valid_to: date | None) -> list[FieldError]:
    if valid_from is not None and valid_to is not None and valid_to < valid_from:
        return [FieldError("valid_to", "must not be before valid_from")]
    return []


def descendants(category_ids: Iterable[str], parents: Mapping[str, str | None]) -> frozenset[str]:
    """The given categories and everything below them."""
    children: dict[str, list[str]] = {}
    for child, parent in parents.items():
        if parent is not None:
            children.setdefault(parent, []).append(child)
    found: set[str] = set()
    stack = list(category_ids)
    while stack:
        current = stack.pop()
        if current not in found:
            found.add(current)
            stack.extend(children.get(current, ()))
    return frozenset(found)


@dataclass(frozen=True, slots=True)
class ExpandedAssortment:
    """An assortment with category lines expanded to their whole sub-trees.

    Both the pure resolver below and the SQL filter in ``queries`` are built from this, so the
    rule "sub-categories count, excludes win" lives in one place.
    """

    include_products: frozenset[str]
    exclude_products: frozenset[str]
    include_categories: frozenset[str]
    exclude_categories: frozenset[str]

    def offers(self, product_id: str, category_id: str | None) -> bool:
        if product_id in self.exclude_products or category_id in self.exclude_categories:
            return False
        return product_id in self.include_products or category_id in self.include_categories


def expand_assortment(
    rule: AssortmentRule, category_parents: Mapping[str, str | None]
) -> ExpandedAssortment:
    def pick(*, exclude: bool, products: bool) -> set[str]:
        return {
            (ln.product_id if products else ln.category_id) or ""
            for ln in rule.lines
            if ln.exclude is exclude and (ln.product_id if products else ln.category_id)
        }

    return ExpandedAssortment(
        include_products=frozenset(pick(exclude=False, products=True)),
        exclude_products=frozenset(pick(exclude=True, products=True)),
        include_categories=descendants(pick(exclude=False, products=False), category_parents),
        exclude_categories=descendants(pick(exclude=True, products=False), category_parents),
    )


def resolve_assortments(
    assortments: Iterable[AssortmentRule],
    day: date,
    product_categories: Mapping[str, str | None],
    category_parents: Mapping[str, str | None],
) -> frozenset[str]:
    """The product ids a channel offers on ``day``.

    Each assortment valid on ``day`` is resolved on its own — its includes minus its excludes
    (an exclude wins over any include in the same assortment, whether the exclude names the
    product or one of its categories; a category line covers its sub-categories) — and the
    channel offers the union of those sets. So a seasonal assortment can add what the core
    range excludes. A channel with no valid assortment offers nothing.
    """
    expanded = [expand_assortment(a, category_parents) for a in assortments if a.valid_on(day)]
    return frozenset(
        pid for pid, cid in product_categories.items() if any(e.offers(pid, cid) for e in expanded)
    )


# -- channels -------------------------------------------------------------------------------------
def channel_location_errors(
    kind: str, location_kind: str | None, has_location: bool
) -> list[FieldError]:
    """A store channel is one physical store location; other channels have none of their own."""
    if kind == "store":
        if not has_location:
            return [FieldError("location", "a store channel needs its store location")]
        if location_kind is not None and location_kind != "store":
            return [FieldError("location", f"must be a store location, not a {location_kind}")]
    elif has_location:
        return [FieldError("location", f"only a store channel has a location, not a {kind}")]
    return []


# -- prices shown in lists ------------------------------------------------------------------------
def lowest_price(prices: Iterable[tuple[Money, int]]) -> Money | None:
    """The "from" price of a product: the lowest list price in the currency most of its
    variants are priced in (ties by currency code), so mixed currencies are never compared."""
    by_currency: dict[str, tuple[int, Money]] = {}
    for money, count in prices:
        seen, low = by_currency.get(money.currency, (0, money))
        by_currency[money.currency] = (seen + count, min(low, money))
    if not by_currency:
        return None
    currency = min(by_currency, key=lambda c: (-by_currency[c][0], c))
    return by_currency[currency][1]


# -- commands (what a caller asks the service to create) ------------------------------------------
@dataclass(frozen=True, slots=True)
class VariantDraft:
    sku: str
    list_price: Money
    size: str | None = None
    colour: str | None = None
    style: str | None = None
    status: str = "active"
    barcodes: tuple[str, ...] = ()

    @property
    def dimension_values(self) -> dict[str, str | None]:
        return {"size": self.size, "colour": self.colour, "style": self.style}


@dataclass(frozen=True, slots=True)
class ProductDraft:
    code: str
    name: str
    unit: str
    description: str = ""
    brand: str | None = None
    category: str | None = None  # category code
    status: str = "active"
    dimensions: tuple[str, ...] = ()
    attributes: dict[str, Any] = field(default_factory=dict)
    variants: tuple[VariantDraft, ...] = ()


def draft_errors(draft: ProductDraft) -> list[FieldError]:
    """Everything wrong inside one product draft that needs no database to know.

    Dimensions, each variant's dimension values, duplicate combinations, SKUs or barcodes
    within the draft, and barcode check digits — all reported at once, not first-error-only.
    """
    errors: list[FieldError] = []
    try:
        dims = check_dimensions(draft.dimensions)
    except ValidationFailed as err:
        return err.errors
    skus: dict[str, int] = {}
    gtins: dict[str, str] = {}
    for i, variant in enumerate(draft.variants):
        where = f"variants.{i}"
        errors += variant_dimension_errors(dims, variant.dimension_values, f"{where}.")
        if variant.sku in skus:
            errors.append(FieldError(f"{where}.sku", f"same SKU as variants.{skus[variant.sku]}"))
        skus.setdefault(variant.sku, i)
        for j, raw in enumerate(variant.barcodes):
            try:
                gtin = parse_barcode(raw, f"{where}.barcodes.{j}").gtin
            except ValidationFailed as err:
                errors += err.errors
                continue
            if gtin in gtins:
                errors.append(FieldError(f"{where}.barcodes.{j}", f"same barcode as {gtins[gtin]}"))
            gtins.setdefault(gtin, f"{where}.barcodes.{j}")
    errors += combination_errors([v.dimension_values for v in draft.variants])
    return errors
