"""Buffer rules without a database: pinned worked examples for each method, the precedence of
policies, and the checks a policy must pass before it is stored."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from onestore.inventory.buffer_rules import (
    MAX_UNITS,
    Method,
    Policy,
    PolicyDraft,
    PolicyIndex,
    by_hand,
    ceil_div,
    check_draft,
    derive,
    no_policy,
    show,
)

WEB_SAFETY = Policy(
    id="P1",
    name="Web safety",
    method=Method.DAYS_OF_COVER,
    category_id="c-shirts",
    category="SHIRTS",
    channel_id="ch-web",
    channel="WEB",
    days=Decimal("2.00"),
    risk_class="A",
    velocity_days=10,
)


# -- the methods, worked ---------------------------------------------------------------------------
def test_days_of_cover_worked_example() -> None:
    derived = derive(WEB_SAFETY, on_hand=50, sold=32)
    assert derived.buffer == 10
    assert derived.explanation == (
        "days_of_cover policy 'Web safety' (channel WEB, category SHIRTS): 3.2 units/day × "
        "2 days × risk A 1.5 = 9.6 → 10 (32 sold net of returns in the last 10 days)"
    )
    assert derived.inputs == {
        "source": "policy",
        "policy": "Web safety",
        "method": "days_of_cover",
        "scope": "channel WEB, category SHIRTS",
        "sold": 32,
        "velocity_days": 10,
        "velocity": "3.2",
        "days": "2.00",
        "risk_class": "A",
        "risk_factor": "1.5",
    }


@pytest.mark.parametrize(
    ("sold", "window", "days", "risk", "expected"),
    [
        (1, 3, "3", "B", 1),  # 1/3 × 3 × 1.0 is exactly 1: dividing first would give 2
        (7, 7, "3", "C", 2),  # 1 × 3 × 0.5 = 1.5 → 2
        (10, 10, "2.5", "B", 3),  # 1 × 2.5 = 2.5 → 3
        (30, 30, "7", "A", 11),  # 1 × 7 × 1.5 = 10.5 → 11
        (0, 30, "7", "A", 0),  # no sales, no cover
        (-4, 30, "7", "A", 0),  # more returns than sales: velocity floors at 0
        (20, 10, "0.01", "B", 1),  # 2 × 0.01 = 0.02 → 1
    ],
)
def test_days_of_cover_rounds_up_exactly(
    sold: int, window: int, days: str, risk: str, expected: int
) -> None:
    policy = replace(WEB_SAFETY, days=Decimal(days), risk_class=risk, velocity_days=window)
    assert derive(policy, on_hand=0, sold=sold).buffer == expected


def test_risk_factors_protect_fast_movers_more() -> None:
    buffers = {
        risk: derive(replace(WEB_SAFETY, risk_class=risk), on_hand=0, sold=40).buffer
        for risk in "ABC"
    }
    assert buffers == {"A": 12, "B": 8, "C": 4}  # 4/day × 2 days × 1.5 / 1.0 / 0.5


@pytest.mark.parametrize(
    ("percent", "on_hand", "expected", "shown"),
    [
        ("12.50", 13, 2, "12.5% of 13 on hand = 1.63 → 2"),
        ("10.00", 20, 2, "10% of 20 on hand = 2 → 2"),
        ("10.00", 21, 3, "10% of 21 on hand = 2.1 → 3"),
        ("0.00", 99, 0, "0% of 99 on hand = 0 → 0"),
        ("100.00", 7, 7, "100% of 7 on hand = 7 → 7"),
        ("33.33", 3, 1, "33.33% of 3 on hand = 1 → 1"),  # 0.9999 → 1
        ("50.00", -4, 0, "50% of 0 on hand = 0 → 0"),  # negative stock counts as none
    ],
)
def test_percent_of_on_hand(percent: str, on_hand: int, expected: int, shown: str) -> None:
    policy = Policy(
        id="P2", name="Ten", method=Method.PERCENT, percent=Decimal(percent), location_id="l1"
    )
    policy = replace(policy, location="ST-01")
    derived = derive(policy, on_hand=on_hand, sold=999)
    assert derived.buffer == expected
    assert derived.explanation == f"percent policy 'Ten' (location ST-01, all products): {shown}"


def test_fixed_units_and_the_cap() -> None:
    policy = Policy(id="P3", name="Floor", method=Method.FIXED, units=5, variant_id="v", sku="S-1")
    derived = derive(policy, on_hand=0, sold=0)
    assert (derived.buffer, derived.explanation) == (
        5,
        "fixed policy 'Floor' (all locations, SKU S-1): 5 units",
    )
    huge = replace(WEB_SAFETY, days=Decimal("9999.99"), velocity_days=1)
    assert derive(huge, on_hand=0, sold=1_000_000).buffer == MAX_UNITS
    assert "(capped)" in derive(huge, on_hand=0, sold=1_000_000).explanation


def test_other_sources_explain_themselves() -> None:
    assert by_hand(4, "staff:01X").explanation == "set by hand by staff:01X"
    assert by_hand(4, "staff:01X").inputs == {"source": "hand", "actor": "staff:01X"}
    assert no_policy().buffer == 0 and no_policy().inputs == {"source": "none"}


def test_ceil_div_and_show() -> None:
    assert ceil_div(Decimal(10), Decimal(5)) == 2
    assert ceil_div(Decimal("10.01"), Decimal(5)) == 3
    assert ceil_div(Decimal(0), Decimal(5)) == 0
    assert [show(Decimal(v)) for v in ("9.60", "10", "3.3333", "0", "2.005")] == [
        "9.6",
        "10",
        "3.33",
        "0",
        "2.01",
    ]


# -- precedence ------------------------------------------------------------------------------------
PARENTS = {"c-linen": "c-shirts", "c-shirts": "c-apparel", "c-apparel": None}
SERVING = {"ch-web": frozenset({"dc", "st1"}), "ch-app": frozenset({"st1", "st2"})}


def policy(pid: str, **scope: str) -> Policy:
    return Policy(id=pid, name=pid, method=Method.FIXED, units=1, **scope)  # type: ignore[arg-type]


def winner(policies: list[Policy], location: str = "st1", variant: str = "v1") -> str | None:
    found = PolicyIndex(policies, PARENTS, SERVING).winner(variant, "c-linen", location)
    return None if found is None else found.policy.id


def test_sku_beats_category_beats_all_products() -> None:
    everything = policy("all")
    category = policy("cat", category_id="c-shirts")
    sku = policy("sku", variant_id="v1")
    assert winner([everything, category, sku]) == "sku"
    assert winner([everything, category]) == "cat"
    assert winner([everything]) == "all"
    assert winner([everything, category, sku], variant="v2") == "cat"  # not this SKU


def test_the_nearest_category_wins() -> None:
    far, near = policy("far", category_id="c-apparel"), policy("near", category_id="c-shirts")
    own = policy("own", category_id="c-linen")
    assert winner([far, near]) == "near"
    assert winner([far, near, own]) == "own"
    assert winner([policy("other", category_id="c-shoes")]) is None


def test_location_beats_channel_beats_everywhere() -> None:
    everywhere = policy("all")
    channel = policy("web", channel_id="ch-web")
    here = policy("here", location_id="st1")
    assert winner([everywhere, channel, here]) == "here"
    assert winner([everywhere, channel]) == "web"
    assert winner([everywhere, channel], location="st2") == "all"  # WEB is not served by st2
    assert winner([channel, here], location="st2") is None


def test_the_product_side_decides_before_the_location_side() -> None:
    sku_everywhere = policy("sku-all", variant_id="v1")
    category_here = policy("cat-here", category_id="c-linen", location_id="st1")
    assert winner([sku_everywhere, category_here]) == "sku-all"


def test_ties_go_to_the_oldest_policy() -> None:
    web, app = policy("01B", channel_id="ch-web"), policy("01A", channel_id="ch-app")
    assert winner([web, app]) == "01A"  # st1 serves both channels: smallest id wins
    assert winner([app, web]) == "01A"


def test_a_category_loop_in_bad_data_stops_the_walk() -> None:
    index = PolicyIndex([policy("x", category_id="c-b")], {"c-a": "c-b", "c-b": "c-a"}, {})
    assert index.chain("c-a") == ("c-a", "c-b")
    assert index.winner("v", "c-a", "st1") is not None


# -- checks ----------------------------------------------------------------------------------------
def fields_of(draft: PolicyDraft) -> list[str]:
    return [error.field for error in check_draft(draft)]


def test_valid_drafts_pass() -> None:
    assert check_draft(PolicyDraft(name="a", method="fixed", units=0)) == []
    assert check_draft(PolicyDraft(name="a", method="percent", percent=Decimal("100"))) == []
    cover = PolicyDraft(
        name="a", method="days_of_cover", days=Decimal("0.01"), risk_class="C", velocity_days=1
    )
    assert check_draft(cover) == []


@pytest.mark.parametrize(
    ("draft", "fields"),
    [
        (PolicyDraft(name=" ", method="fixed", units=1), ["name"]),
        (PolicyDraft(name="a" * 101, method="fixed", units=1), ["name"]),
        (PolicyDraft(name="a", method="magic"), ["method"]),
        (PolicyDraft(name="a", method="fixed"), ["units"]),
        (PolicyDraft(name="a", method="fixed", units=-1), ["units"]),
        (PolicyDraft(name="a", method="fixed", units=True), ["units"]),  # type: ignore[arg-type]
        (PolicyDraft(name="a", method="fixed", units=2, percent=Decimal(1)), ["percent"]),
        (PolicyDraft(name="a", method="percent", percent=Decimal("100.01")), ["percent"]),
        (PolicyDraft(name="a", method="percent", percent=Decimal("-1")), ["percent"]),
        (PolicyDraft(name="a", method="percent", percent=Decimal("1.005")), ["percent"]),
        (PolicyDraft(name="a", method="percent", percent=Decimal("NaN")), ["percent"]),
        (PolicyDraft(name="a", method="percent", percent=1.5), ["percent"]),  # type: ignore[arg-type]
        (
            PolicyDraft(name="a", method="days_of_cover", days=Decimal(0), risk_class="D"),
            ["velocity_days", "days", "risk_class"],
        ),
        (
            PolicyDraft(
                name="a", method="days_of_cover", days=Decimal(1), risk_class="A", velocity_days=0
            ),
            ["velocity_days"],
        ),
        (
            PolicyDraft(name="a", method="fixed", units=1, sku="S", category="C"),
            ["category"],
        ),
        (
            PolicyDraft(name="a", method="fixed", units=1, location="L", channel="W"),
            ["channel"],
        ),
    ],
)
def test_bad_drafts_name_the_field(draft: PolicyDraft, fields: list[str]) -> None:
    assert fields_of(draft) == fields
