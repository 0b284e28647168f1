"""Tax documents: a rate the database cannot keep exactly, a group code too long for its column,
and two rates in force on one day are refused naming the field, in the file and at import —
never stored to refuse every basket later."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from onestore.db.database import Database
from onestore.kernel.errors import ValidationFailed
from onestore.pricing import tables as t
from onestore.pricing import writes
from onestore.pricing.books import current_version
from onestore.pricing.model import TaxRate
from onestore.pricing.settings_files import parse_tax
from onestore.pricing.tax import overlapping


def doc(*rates: dict[str, Any], **more: Any) -> dict[str, Any]:
    return {"format": "onestore.tax/1", "rates": list(rates), **more}


def refused(document: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(ValidationFailed) as caught:
        parse_tax(document)
    return {e.field: e.reason for e in caught.value.errors}


def rate(value: str, start: str | None = None, end: str | None = None) -> dict[str, Any]:
    return {
        "tax_group": "standard",
        "jurisdiction": "US-WA",
        "rate": value,
        "valid_from": start,
        "valid_to": end,
    }


def test_a_fifth_decimal_is_refused_not_rounded_away() -> None:
    assert refused(doc(rate("6.50001"))) == {"rates[0].rate": "may have at most 4 decimal places"}
    kept = parse_tax(doc(rate("6.5000", None, "2026-12-31"), rate("10.25", "2027-01-01")))
    assert [r.rate for r in kept.rates] == [Decimal("6.5000"), Decimal("10.25")]


def test_tax_group_codes_fit_their_column() -> None:
    long = "G" * 33
    bad = doc(
        {**rate("10"), "tax_group": long},
        products=[{"product": "TEE", "tax_group": long}],
        channels=[{"channel": "WEB", "default_tax_group": long}],
    )
    assert refused(bad) == {
        "rates[0].tax_group": "must be at most 32 characters",
        "products[0].tax_group": "must be at most 32 characters",
        "channels[0].default_tax_group": "must be at most 32 characters",
    }


@pytest.mark.parametrize(
    ("first", "second", "clash"),
    [
        (rate("10"), rate("8", "2027-01-01"), True),  # open end reaches 2027
        (rate("10", None, "2026-12-31"), rate("8", "2027-01-01"), False),  # back to back
        (rate("10", None, "2027-01-01"), rate("8", "2027-01-01"), True),  # one shared day
        (rate("10", "2027-01-01"), rate("8", None, "2026-06-30"), False),  # any order
        (rate("10", "2027-01-01"), rate("8", "2027-01-01"), True),  # same start
    ],
)
def test_two_rates_on_one_day_are_refused_naming_the_later(
    first: dict[str, Any], second: dict[str, Any], clash: bool
) -> None:
    if not clash:
        assert len(parse_tax(doc(first, second)).rates) == 2
        return
    errors = refused(doc(first, second))
    assert list(errors) in (["rates[1]"], ["rates[0]"])
    assert "two rates on one day" in next(iter(errors.values()))


def test_overlap_checks_each_group_and_jurisdiction_apart() -> None:
    rates = [
        TaxRate("standard", "US-WA", Decimal(10)),
        TaxRate("reduced", "US-WA", Decimal(5)),
        TaxRate("standard", "US-OR", Decimal(0)),
        TaxRate("standard", "US-WA", Decimal(8), date(2026, 1, 1), date(2026, 1, 31)),
    ]
    assert overlapping(rates[:3]) is None
    later, earlier = overlapping(rates) or (None, None)
    assert (later, earlier) == (rates[3], rates[0])


def test_import_refuses_a_rate_that_overlaps_a_stored_one_and_writes_nothing(
    shop: Database,
) -> None:
    with shop.uow(readonly=True) as uow:
        before = current_version(uow)
    with shop.uow() as uow:
        writes.import_tax(uow, parse_tax(doc(rate("10", None, "2026-12-31"))))
        uow.commit()
    with shop.uow() as uow:  # re-importing the same start replaces it: not an overlap
        writes.import_tax(uow, parse_tax(doc(rate("9.5", None, "2026-12-31"))))
        uow.commit()
    with pytest.raises(ValidationFailed) as caught, shop.uow() as uow:
        clashing = doc(rate("11", "2027-01-01"), rate("8", "2026-12-01", "2026-12-31"))
        writes.import_tax(uow, parse_tax(clashing))
        uow.commit()
    assert [e.field for e in caught.value.errors] == ["rates[1]"]
    assert "overlaps a stored rate" in caught.value.errors[0].reason
    with shop.uow(readonly=True) as uow:
        stored = uow.conn.execute(select(t.tax_rates.c.rate)).scalars().all()
        version = current_version(uow)
    assert [Decimal(r) for r in stored] == [Decimal("9.5")]  # the refused file left nothing
    assert version == before + 2  # and did not move the version


def test_the_error_names_the_entries_as_the_file_numbers_them() -> None:
    same = refused(doc(rate("10"), rate("10")))  # two equal entries are two entries
    assert list(same) == ["rates[1]"] and same["rates[1]"].startswith("overlaps rates[0]:")
    after_a_bad_one = refused(
        doc({**rate("10"), "jurisdiction": "nowhere"}, rate("10"), rate("8", "2027-01-01"))
    )
    assert after_a_bad_one["rates[0].jurisdiction"].startswith("must be a country")
    assert after_a_bad_one["rates[2]"].startswith("overlaps rates[1]:")
