"""Request bodies of the catalog API — also the row shapes of the import document.

Every string has a maximum length, every number a range, unknown fields are refused, and
booleans and integers are strict (``"yes"`` is not true, ``"5"`` is not 5). Money arrives as a
decimal string; the strict JSON parser hands us JSON numbers as ``Decimal``/``int``, which a
price field refuses with a reason saying so, because a client that sends numbers will sooner
or later send a float that has already lost its cents.

The importer validates each document row with these same models, so a row the API would
refuse is refused by the importer with the same words.
"""

from __future__ import annotations

import zoneinfo
from datetime import date
from functools import cache
from typing import Annotated, Any, ClassVar, Literal, Self

from babel import Locale
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from onestore.catalog import model
from onestore.catalog.service import ProductChanges, VariantChanges
from onestore.kernel.errors import ValidationFailed
from onestore.kernel.money import validate_currency


def _code(max_length: int) -> Any:
    def check(value: str) -> str:
        problem = model.code_problem(value, max_length)
        if problem:
            raise PydanticCustomError("code", problem)
        return value

    return AfterValidator(check)


ProductCode = Annotated[str, Field(min_length=1, max_length=64), _code(64)]
Sku = Annotated[str, Field(min_length=1, max_length=64), _code(64)]
CategoryCode = Annotated[str, Field(min_length=1, max_length=64), _code(64)]
AttributeCode = Annotated[str, Field(min_length=1, max_length=64), _code(64)]
UnitCode = Annotated[str, Field(min_length=1, max_length=16), _code(16)]
LocationCode = Annotated[str, Field(min_length=1, max_length=32), _code(32)]
ChannelCode = Annotated[str, Field(min_length=1, max_length=32), _code(32)]
AssortmentCode = Annotated[str, Field(min_length=1, max_length=64), _code(64)]
Name = Annotated[str, Field(min_length=1, max_length=200)]
DimensionValue = Annotated[str, Field(min_length=1, max_length=32)]
Barcode = Annotated[str, Field(min_length=1, max_length=model.MAX_BARCODE_INPUT)]
Version = Annotated[int, Field(strict=True, ge=1, le=2_147_483_647)]
CurrencyCode = Annotated[str, Field(min_length=1, max_length=8)]
ProductStatus = Literal["draft", "active", "discontinued"]
VariantStatus = Literal["active", "discontinued"]
Dimension = Literal["size", "colour", "style"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    def fields_dict(self) -> dict[str, Any]:
        """Every field as validated (nested models stay models), for service keyword args."""
        return {name: getattr(self, name) for name in type(self).model_fields}


def _reason(err: ValidationFailed) -> PydanticCustomError:
    return PydanticCustomError("catalog", err.errors[0].reason if err.errors else err.detail)


def _money_string(value: Any) -> Any:
    """Refuse JSON numbers for money before pydantic's own str check words it vaguely."""
    if not isinstance(value, str):
        raise PydanticCustomError("money_string", model.MONEY_STRING_REASON)
    return value


def _optional_money_string(value: Any) -> Any:
    return None if value is None else _money_string(value)


def _currency(value: str) -> str:
    try:
        return validate_currency(value)
    except ValidationFailed as err:
        raise _reason(err) from None


def _priced(amount: str, info: ValidationInfo) -> str:
    """The amount against the currency (validated first: it is declared before the price)."""
    currency = info.data.get("currency")
    try:
        if currency is None:  # already reported on its own field; check what we can
            model.price_amount(amount)
            return amount
        price = model.parse_price(
            amount, currency, amount_field="list_price", currency_field="currency"
        )
    except ValidationFailed as err:
        raise _reason(err) from None
    return f"{price.amount}"


# -- products -------------------------------------------------------------------------------------
class VariantIn(Strict):
    sku: Sku
    size: DimensionValue | None = None
    colour: DimensionValue | None = None
    style: DimensionValue | None = None
    currency: CurrencyCode
    list_price: Annotated[str, Field(max_length=32)] = Field(
        description='Decimal string, e.g. "29.95"; JSON numbers are refused.'
    )
    status: VariantStatus = "active"
    barcodes: list[Barcode] = Field(default_factory=list, max_length=20)

    _check_currency = field_validator("currency")(_currency)
    _money_type = field_validator("list_price", mode="before")(_money_string)
    _money_value = field_validator("list_price")(_priced)

    def to_draft(self) -> model.VariantDraft:
        price = model.parse_price(
            self.list_price, self.currency, amount_field="list_price", currency_field="currency"
        )
        return model.VariantDraft(
            sku=self.sku,
            list_price=price,
            size=self.size,
            colour=self.colour,
            style=self.style,
            status=self.status,
            barcodes=tuple(self.barcodes),
        )


class ProductIn(Strict):
    code: ProductCode
    name: Name
    description: Annotated[str, Field(max_length=5000)] = ""
    brand: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    category: CategoryCode | None = None
    unit: UnitCode
    status: ProductStatus = "active"
    dimensions: list[Dimension] = Field(default_factory=list, max_length=3)
    attributes: dict[Annotated[str, Field(max_length=64)], Any] = Field(
        default_factory=dict, max_length=50
    )
    variants: list[VariantIn] = Field(default_factory=list, max_length=500)

    def to_draft(self) -> model.ProductDraft:
        return model.ProductDraft(
            code=self.code,
            name=self.name,
            unit=self.unit,
            description=self.description,
            brand=self.brand,
            category=self.category,
            status=self.status,
            dimensions=tuple(self.dimensions),
            attributes=dict(self.attributes),
            variants=tuple(v.to_draft() for v in self.variants),
        )


class Patch(Strict):
    """A partial update: only the fields present in the body change.

    ``null`` means "clear it" where a field may be empty (brand, category, parent...); for the
    fields listed in ``NOT_NULL`` it is refused instead of silently ignored.
    """

    NOT_NULL: ClassVar[tuple[str, ...]] = ()

    @model_validator(mode="after")
    def _not_null(self) -> Self:
        for name in self.NOT_NULL:
            if name in self.model_fields_set and getattr(self, name) is None:
                raise PydanticCustomError("not_null", f"{name} cannot be null")
        return self

    def given(self, *, skip: tuple[str, ...] = ("version",)) -> dict[str, Any]:
        return {k: getattr(self, k) for k in sorted(self.model_fields_set) if k not in skip}


class ProductPatch(Patch):
    """Send ``version`` as read; a stale version is a 409."""

    NOT_NULL = ("name", "description", "unit", "status", "attributes")

    version: Version
    name: Name | None = None
    description: Annotated[str, Field(max_length=5000)] | None = None
    brand: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    category: CategoryCode | None = None
    unit: UnitCode | None = None
    status: ProductStatus | None = None
    attributes: dict[Annotated[str, Field(max_length=64)], Any] | None = Field(
        default=None, max_length=50
    )

    def changes(self) -> ProductChanges:
        return ProductChanges(**self.given())


class VariantPatch(Patch):
    """Send ``version`` as read. A price without a currency keeps the current currency."""

    NOT_NULL = ("currency", "list_price", "status")

    version: Version
    currency: CurrencyCode | None = None
    list_price: Annotated[str, Field(max_length=32)] | None = None
    status: VariantStatus | None = None

    _money_type = field_validator("list_price", mode="before")(_optional_money_string)

    def changes(self) -> VariantChanges:
        return VariantChanges(**self.given())


class BarcodeIn(Strict):
    code: Barcode


# -- units, categories, attributes ----------------------------------------------------------------
class UnitIn(Strict):
    code: UnitCode
    name: Annotated[str, Field(min_length=1, max_length=100)]
    decimals: Annotated[int, Field(strict=True, ge=0, le=4)] = 0


class UnitPatch(Patch):
    NOT_NULL = ("name", "decimals")

    name: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    decimals: Annotated[int, Field(strict=True, ge=0, le=4)] | None = None


class CategoryIn(Strict):
    code: CategoryCode
    name: Name
    parent: CategoryCode | None = None


class CategoryPatch(Patch):
    NOT_NULL = ("name",)

    name: Name | None = None
    parent: CategoryCode | None = Field(default=None, description="null makes it a root.")


class AttributeIn(Strict):
    code: AttributeCode
    name: Name
    value_type: Literal["text", "number", "boolean", "choice"]
    choices: list[Annotated[str, Field(min_length=1, max_length=model.MAX_CHOICE)]] | None = Field(
        default=None, max_length=model.MAX_CHOICES
    )

    @model_validator(mode="after")
    def _choices_fit_type(self) -> AttributeIn:
        errors = model.definition_errors(self.value_type, self.choices)
        if errors:
            raise PydanticCustomError("choices", f"{errors[0].field}: {errors[0].reason}")
        return self


class AttributePatch(Patch):
    NOT_NULL = ("name",)

    name: Name | None = None
    choices: list[Annotated[str, Field(min_length=1, max_length=model.MAX_CHOICE)]] | None = Field(
        default=None, max_length=model.MAX_CHOICES
    )


# -- locations and channels -----------------------------------------------------------------------
@cache
def _countries() -> frozenset[str]:
    codes = (c for c in Locale("en").territories if isinstance(c, str))
    return frozenset(c for c in codes if len(c) == 2 and c.isalpha() and c != "ZZ")


def _country(value: str) -> str:
    upper = value.upper()
    if upper not in _countries():
        raise PydanticCustomError("country", "must be an ISO 3166 two-letter country code")
    return upper


@cache
def _timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def _timezone(value: str) -> str:
    if value not in _timezones():
        raise PydanticCustomError("timezone", "must be an IANA time zone such as Europe/Paris")
    return value


Latitude = Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False)]
Longitude = Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False)]
Country = Annotated[str, Field(min_length=2, max_length=2), AfterValidator(_country)]
TimeZone = Annotated[str, Field(min_length=1, max_length=64), AfterValidator(_timezone)]
Street = Annotated[str, Field(max_length=200)]
Short = Annotated[str, Field(max_length=100)]


class LocationIn(Strict):
    code: LocationCode
    name: Name
    kind: Literal["dc", "store", "vendor"]
    latitude: Latitude
    longitude: Longitude
    street: Street | None = None
    city: Short | None = None
    postcode: Annotated[str, Field(max_length=20)] | None = None
    region: Short | None = None
    country: Country
    timezone: TimeZone
    is_active: StrictBool = True


class LocationPatch(Patch):
    NOT_NULL = ("name", "latitude", "longitude", "timezone", "is_active")

    name: Name | None = None
    latitude: Latitude | None = None
    longitude: Longitude | None = None
    street: Street | None = None
    city: Short | None = None
    postcode: Annotated[str, Field(max_length=20)] | None = None
    region: Short | None = None
    timezone: TimeZone | None = None
    is_active: StrictBool | None = None


class ChannelIn(Strict):
    code: ChannelCode
    name: Name
    kind: Literal["store", "web", "call_center", "marketplace", "mobile"]
    currency: CurrencyCode
    location: LocationCode | None = Field(
        default=None, description="A store channel's own store location."
    )
    prices_include_tax: StrictBool = True
    is_active: StrictBool = True
    locations: list[LocationCode] = Field(
        default_factory=list, max_length=2000, description="Locations whose stock it may sell."
    )

    _check_currency = field_validator("currency")(_currency)


class ChannelPatch(Patch):
    NOT_NULL = ("name", "prices_include_tax", "is_active", "locations")

    name: Name | None = None
    prices_include_tax: StrictBool | None = None
    is_active: StrictBool | None = None
    locations: list[LocationCode] | None = Field(default=None, max_length=2000)


# -- assortments ----------------------------------------------------------------------------------
class AssortmentLineIn(Strict):
    product: ProductCode | None = None
    category: CategoryCode | None = None
    exclude: StrictBool = False

    @model_validator(mode="after")
    def _one_target(self) -> AssortmentLineIn:
        if (self.product is None) == (self.category is None):
            raise PydanticCustomError("line", "give exactly one of product or category")
        return self


class AssortmentIn(Strict):
    code: AssortmentCode
    name: Name
    valid_from: date | None = None
    valid_to: date | None = None
    channels: list[ChannelCode] = Field(default_factory=list, max_length=2000)
    lines: list[AssortmentLineIn] = Field(default_factory=list, max_length=10_000)

    @model_validator(mode="after")
    def _range(self) -> AssortmentIn:
        errors = model.date_range_errors(self.valid_from, self.valid_to)
        if errors:
            raise PydanticCustomError("valid_to", errors[0].reason)
        return self


class AssortmentPatch(Patch):
    NOT_NULL = ("name", "channels", "lines")

    name: Name | None = None
    valid_from: date | None = None
    valid_to: date | None = None
    channels: list[ChannelCode] | None = Field(default=None, max_length=2000)
    lines: list[AssortmentLineIn] | None = Field(default=None, max_length=10_000)
