"""Price documents, JSON and CSV, to and from :class:`PriceData`, every error naming its field.

JSON (import file and API body)::

    {"format": "onestore.prices/1",
     "price_groups": [{"code": "GOLD", "name": "Gold members", "priority": 0,
                       "channels": ["WEB"], "stores": [], "customer_groups": [],
                       "loyalty_tiers": ["gold"]}],
     "prices": [{"group": "GOLD", "sku": "TS-BLK-M", "amount": "17.50", "currency": "EUR",
                 "valid_from": "2026-12-01", "valid_to": null}]}

Both lists are optional. A group's ``priority`` is -1000..1000 (default 0, highest wins); its
link lists are optional, and a group with no links at all is allowed: it applies nowhere until
it is linked to a channel, store, customer group or loyalty tier. When the document lists price
groups, every price must name one of them; otherwise (and always for CSV) whether the group
exists is for the service to check against the database.

CSV (prices only, so :attr:`PriceData.groups` is empty): the header is the six columns
``group,sku,amount,currency,valid_from,valid_to`` (in any order, each once); empty dates are
open-ended. Errors name ``line N, column X`` (``line N`` for a whole row).

A price is at least 0 with at most the currency's decimals (``17.5`` is read as ``17.50``);
``valid_to`` is inclusive and not before ``valid_from``. Two prices for the same group, SKU and
currency whose dates overlap are an error on the later one ("overlaps line 4", or "overlaps
prices[3]" in JSON).
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date

from onestore.pricing.doc_fields import Fields, Problems, as_fields, number_text
from onestore.pricing.model import PriceEntry, PriceGroup

FORMAT = "onestore.prices/1"
CSV_COLUMNS = ("group", "sku", "amount", "currency", "valid_from", "valid_to")
MIN_PRIORITY, MAX_PRIORITY = -1000, 1000

_GROUP_LINKS = ("channels", "stores", "customer_groups", "loyalty_tiers")
_GROUP_KEYS = ("code", "name", "priority", *_GROUP_LINKS)


@dataclass(frozen=True, slots=True)
class PriceData:
    """The price groups and prices of one document."""

    groups: tuple[PriceGroup, ...] = ()
    prices: tuple[PriceEntry, ...] = ()


@dataclass(frozen=True, slots=True)
class _Read:
    """A price read from the document, with how errors name it (``prices[3]``, ``line 4``)."""

    entry: PriceEntry
    label: str
    order: int


# -- JSON -----------------------------------------------------------------------------------------
def parse_prices_json(doc: object) -> PriceData:
    """The groups and prices of an ``onestore.prices/1`` document, or one error listing all."""
    problems = Problems()
    fields = as_fields(doc, "", problems)
    if fields is None:
        problems.raise_if_any()
        return PriceData()
    fields.check_keys(("format", "price_groups", "prices"))
    fields.check_format(FORMAT)
    groups, known = _groups(fields)
    read: list[_Read] = []
    for i, (path, raw) in enumerate(fields.elements("prices", required=False)):
        price = as_fields(raw, path, problems)
        if price is None:
            continue
        price.check_keys(CSV_COLUMNS)
        entry = _price(price)
        group = price.raw.get("group")
        if known and isinstance(group, str) and group not in known:
            price.error(
                "group", f"unknown price group {group!r}: not in this document's price_groups"
            )
        elif entry is not None:
            read.append(_Read(entry, path, i))
    _check_overlaps(read, problems)
    problems.raise_if_any()
    return PriceData(groups=groups, prices=tuple(r.entry for r in read))


def _groups(fields: Fields) -> tuple[tuple[PriceGroup, ...], set[str]]:
    """The valid groups, and every code the document gives (valid or not, so that a price in a
    group with a fault elsewhere is not also called unknown)."""
    groups: list[PriceGroup] = []
    first_seen: dict[str, int] = {}
    for i, (path, raw) in enumerate(fields.elements("price_groups", required=False)):
        group = as_fields(raw, path, fields.problems)
        if group is None:
            continue
        before = len(fields.problems)
        group.check_keys(_GROUP_KEYS)
        code = group.code("code")
        name = group.text("name")
        priority = group.integer("priority", low=MIN_PRIORITY, high=MAX_PRIORITY, default=0)
        channels, stores, affiliations, tiers = (group.codes(key) for key in _GROUP_LINKS)
        if code is not None and code in first_seen:
            group.error("code", f"duplicate of price_groups[{first_seen[code]}]")
        elif code is not None:
            first_seen[code] = i
        if isinstance(group.raw.get("code"), str):
            first_seen.setdefault(group.raw["code"], i)
        if len(fields.problems) == before:
            assert code and name and priority is not None
            groups.append(PriceGroup(code, name, priority, channels, stores, affiliations, tiers))
    return tuple(groups), set(first_seen)


def prices_to_json(data: PriceData) -> dict[str, object]:
    """The JSON form of ``data``: ``parse_prices_json(prices_to_json(d)) == d``."""
    return {
        "format": FORMAT,
        "price_groups": [
            {
                "code": g.code,
                "name": g.name,
                "priority": g.priority,
                "channels": sorted(g.channels),
                "stores": sorted(g.stores),
                "customer_groups": sorted(g.affiliations),
                "loyalty_tiers": sorted(g.loyalty_tiers),
            }
            for g in data.groups
        ],
        "prices": [
            {
                "group": p.group,
                "sku": p.sku,
                "amount": number_text(p.amount),
                "currency": p.currency,
                "valid_from": _day(p.valid_from),
                "valid_to": _day(p.valid_to),
            }
            for p in data.prices
        ],
    }


# -- CSV ------------------------------------------------------------------------------------------
def parse_prices_csv(text: str) -> PriceData:
    """The prices of a CSV file (no groups), or one error listing every fault by line."""
    problems = Problems()
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    read: list[_Read] = []
    try:
        header = _header(reader, problems)
        for values in reader if header else ():
            line = reader.line_num
            if not any(v.strip() for v in values):
                continue
            if len(values) != len(header):
                problems.add(f"line {line}", f"has {len(values)} fields, not {len(header)}")
                continue
            row = {h: v.strip() or None for h, v in zip(header, values, strict=True)}
            entry = _price(Fields(row, problems, locate=_cell(line)))
            if entry is not None:
                read.append(_Read(entry, f"line {line}", line))
    except csv.Error as exc:
        problems.add(f"line {reader.line_num}", f"not valid CSV: {exc}")
    _check_overlaps(read, problems)
    problems.raise_if_any()
    return PriceData(prices=tuple(r.entry for r in read))


def _header(reader: Iterator[list[str]], problems: Problems) -> list[str]:
    """The header row's column names, or ``[]`` after recording what is wrong with it."""
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        problems.add("line 1", "the file is empty; expected the header " + ",".join(CSV_COLUMNS))
        return []
    before = len(problems)
    for name in CSV_COLUMNS:
        if name not in header:
            problems.add(f"line 1, column {name}", "missing column")
    for name in dict.fromkeys(header):
        if name not in CSV_COLUMNS:
            problems.add(f"line 1, column {name}", "unknown column")
        elif header.count(name) > 1:
            problems.add(f"line 1, column {name}", "appears more than once")
    return header if len(problems) == before else []


def _cell(line: int) -> Callable[[str], str]:
    return lambda column: f"line {line}, column {column}"


def prices_to_csv(data: PriceData) -> str:
    """The prices of ``data`` as CSV (groups have no CSV form)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for p in data.prices:
        writer.writerow(
            [
                p.group,
                p.sku,
                number_text(p.amount),
                p.currency,
                _day(p.valid_from) or "",
                _day(p.valid_to) or "",
            ]
        )
    return out.getvalue()


# -- shared ---------------------------------------------------------------------------------------
def _price(fields: Fields) -> PriceEntry | None:
    """One price from a JSON object or a CSV row (its cells as strings, empty as ``None``)."""
    before = len(fields.problems)
    group = fields.code("group")
    sku = fields.code("sku")
    currency = fields.currency()
    amount = fields.amount("amount", currency, positive=False)
    valid_from, valid_to = fields.day("valid_from"), fields.day("valid_to")
    if valid_from and valid_to and valid_to < valid_from:
        fields.error("valid_to", f"is before valid_from {valid_from.isoformat()}")
    if len(fields.problems) > before:
        return None
    assert group and sku and currency and amount is not None
    return PriceEntry(group, sku, amount, currency, valid_from, valid_to)


def _check_overlaps(read: list[_Read], problems: Problems) -> None:
    """Refuse two prices for one (group, SKU, currency) on a common day, naming the later one.

    Per key, sorted by start: a price overlaps the one reaching furthest among those before it
    exactly when it starts on or before that one's end.
    """
    by_key: defaultdict[tuple[str, str, str], list[_Read]] = defaultdict(list)
    for r in read:
        by_key[(r.entry.group, r.entry.sku, r.entry.currency)].append(r)
    found: list[tuple[int, str, str]] = []
    for same in by_key.values():
        reach: _Read | None = None
        for r in sorted(same, key=lambda r: (r.entry.valid_from or date.min, r.order)):
            if reach is not None and (r.entry.valid_from or date.min) <= _end(reach):
                later, earlier = (r, reach) if r.order > reach.order else (reach, r)
                found.append(
                    (
                        later.order,
                        later.label,
                        f"overlaps {earlier.label}: the same group, SKU and currency "
                        "on overlapping dates",
                    )
                )
            if reach is None or _end(r) > _end(reach):
                reach = r
    for _, label, reason in sorted(found):
        problems.add(label, reason)


def _end(r: _Read) -> date:
    return r.entry.valid_to or date.max


def _day(value: date | None) -> str | None:
    return None if value is None else value.isoformat()
