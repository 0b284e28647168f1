"""What catalog reads return: plain frozen dataclasses, no ORM rows and no pydantic.

The API shapes these into JSON, the back-office pages render them, and other contexts (pricing,
inventory, POS) read them through ``onestore.catalog.queries`` — so none of them depends on how
the catalog stores its tables. Money is always :class:`~onestore.kernel.money.Money`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Generic, TypeVar

from onestore.kernel.money import Money

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class BarcodeView:
    code: str  # as printed on the label
    gtin: str  # the GTIN-14 it is stored and found under
    kind: str  # EAN-8 | UPC-A | EAN-13 | GTIN-14


@dataclass(frozen=True, slots=True)
class VariantView:
    id: str
    sku: str
    size: str | None
    colour: str | None
    style: str | None
    list_price: Money
    status: str
    barcodes: list[BarcodeView] = field(default_factory=list)
    version: int = 1


@dataclass(frozen=True, slots=True)
class ProductSummary:
    id: str
    code: str
    name: str
    brand: str | None
    category_code: str | None
    category_name: str | None
    status: str
    variant_count: int
    min_price: Money | None


@dataclass(frozen=True, slots=True)
class ProductPage:
    items: list[ProductSummary]
    total: int
    limit: int
    offset: int


@dataclass(frozen=True, slots=True)
class ProductDetail:
    id: str
    code: str
    name: str
    description: str
    brand: str | None
    category_code: str | None
    category_name: str | None
    unit: str
    status: str
    dimensions: list[str]
    attributes: dict[str, Any]
    version: int
    created_at: datetime
    updated_at: datetime
    variants: list[VariantView]


@dataclass(frozen=True, slots=True)
class SkuLabel:
    """How a till or a cart names one SKU on a line: its product and its size / colour / style."""

    sku: str
    product_code: str
    product_name: str
    size: str | None
    colour: str | None
    style: str | None

    @property
    def variant(self) -> str:
        return " / ".join(v for v in (self.size, self.colour, self.style) if v)


@dataclass(frozen=True, slots=True)
class BarcodeHit:
    """What a scan (or a SKU lookup) finds: the variant and enough of its product for a line."""

    product_id: str
    product_code: str
    product_name: str
    variant: VariantView


@dataclass(frozen=True, slots=True)
class UnitView:
    code: str
    name: str
    decimals: int


@dataclass(frozen=True, slots=True)
class CategoryView:
    id: str
    code: str
    name: str
    parent_code: str | None


@dataclass(frozen=True, slots=True)
class AttributeView:
    code: str
    name: str
    value_type: str
    choices: list[str]


@dataclass(frozen=True, slots=True)
class LocationView:
    id: str
    code: str
    name: str
    kind: str
    latitude: float
    longitude: float
    street: str | None
    city: str | None
    postcode: str | None
    region: str | None
    country: str
    timezone: str
    is_active: bool


@dataclass(frozen=True, slots=True)
class ChannelView:
    id: str
    code: str
    name: str
    kind: str
    currency: str
    location: str | None  # code of the store location of a store channel
    prices_include_tax: bool
    is_active: bool
    locations: list[str]  # codes of the locations whose stock this channel may sell


@dataclass(frozen=True, slots=True)
class AssortmentLineView:
    product: str | None  # product code
    category: str | None  # category code
    exclude: bool


@dataclass(frozen=True, slots=True)
class AssortmentView:
    id: str
    code: str
    name: str
    valid_from: date | None
    valid_to: date | None
    channels: list[str]
    lines: list[AssortmentLineView]


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a list that is not products (categories, locations...)."""

    items: list[T]
    total: int
    limit: int
    offset: int
