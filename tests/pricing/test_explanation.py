"""Every candidate says why it gave a line nothing, in words and as one of six kinds (``Why``).

A till shows them all; a shopper's cart shows what is within reach and never what exists for
other scopes or behind a coupon (``service.SHOPPER_HIDDEN``). One basket here meets each kind.
"""

from __future__ import annotations

from typing import Any

from onestore.pricing.model import Why
from onestore.pricing.service import priced_to_json

from .test_worked_examples import by_id, line, run


def simple(code: str, value: str, **rest: Any) -> dict[str, Any]:
    return {
        "code": code,
        "name": code,
        "kind": "simple",
        "concurrency": rest.pop("concurrency", "best_price"),
        "method": "percent",
        "value": value,
    } | rest


DOCS = [
    # the tee: 10 % at priority 10 beats 20 % at priority 0 (top down), another 5 % loses
    simple("TEE10", "10", priority=10, items={"skus": ["TEE"]}),
    simple("TEE20", "20", items={"skus": ["TEE"]}),
    simple("TEE5", "5", priority=10, items={"skus": ["TEE"]}),
    # the cap: an exclusive 5 % holds it; a 15 % for another channel; one behind a coupon
    simple("CAP-EXCL", "5", concurrency="exclusive", priority=5, items={"skus": ["CAP"]}),
    simple("CAP-APP", "15", scope={"channels": ["APP"]}, items={"skus": ["CAP"]}),
    simple("CAP-CODE", "30", coupon_required=True, items={"skus": ["CAP"]}),
    # the hat: an exclusive 5 % beats a 3 % at its priority, so the 3 % is shut out
    simple("HAT-EXCL", "5", concurrency="exclusive", items={"skus": ["HAT"]}),
    simple("HAT3", "3", items={"skus": ["HAT"]}),
    # tee and cap: a tier that needs three units
    {
        "code": "ANY3",
        "name": "Any three",
        "kind": "quantity",
        "concurrency": "best_price",
        "items": {"skus": ["TEE", "CAP"]},
        "tiers": [{"min_quantity": "3", "method": "percent", "value": "50"}],
    },
]


HAT = line("3", "HAT", "8.00")


def test_each_kind_of_reason() -> None:
    basket = run(DOCS, [line("1", "TEE", "20.00"), line("2", "CAP", "10.00"), HAT])
    tee, cap, hat = (by_id(basket)[n] for n in ("1", "2", "3"))
    assert [a.code for a in tee.discounts] == ["TEE10"]
    assert {c.code: (c.why, c.reason) for c in tee.considered} == {
        "ANY3": (Why.SHORT, "needs a quantity of at least 3; the basket has 2"),
        "TEE20": (Why.PRIORITY, "already discounted at priority 10 (TEE10)"),
        "TEE5": (Why.BEATEN, "a lower price came from TEE10"),
    }
    assert [a.code for a in cap.discounts] == ["CAP-EXCL"]
    assert {c.code: (c.why, c.reason) for c in cap.considered} == {
        "ANY3": (Why.SHORT, "needs a quantity of at least 3; the basket has 2"),
        "CAP-APP": (Why.SCOPE, "not offered on channel WEB"),
        "CAP-CODE": (Why.COUPON, "needs its coupon code"),
    }
    assert [a.code for a in hat.discounts] == ["HAT-EXCL"]
    assert {c.code: (c.why, c.reason) for c in hat.considered} == {
        "HAT3": (Why.EXCLUSIVE, "exclusive discount HAT-EXCL applies to these units"),
    }


def test_a_shopper_sees_what_is_within_reach_and_staff_see_everything() -> None:
    basket = run(DOCS, [line("1", "TEE", "20.00"), line("2", "CAP", "10.00")])
    staff = priced_to_json(basket)
    shopper = priced_to_json(basket, shopper=True)
    assert [c["code"] for c in staff["lines"][1]["considered"]] == ["ANY3", "CAP-APP", "CAP-CODE"]
    assert [c["code"] for c in shopper["lines"][1]["considered"]] == ["ANY3"]
    assert shopper["lines"][0]["considered"] == staff["lines"][0]["considered"]
    assert {k: v for k, v in shopper.items() if k != "lines"} == {
        k: v for k, v in staff.items() if k != "lines"
    }


def test_lines_that_got_different_things_get_their_own_reasons() -> None:
    """Two lines match a fixed price that lowers nothing; one of them also gets an exclusive
    threshold. The same candidate has a different reason on each (the explanation must not
    share it between them)."""
    docs = [
        {
            "code": "FIX50",
            "name": "Fixed 50.00",
            "kind": "simple",
            "concurrency": "best_price",
            "items": {"skus": ["TEE", "CAP"]},
            "method": "price",
            "value": "50.00",
            "currency": "EUR",
        },
        {
            "code": "SPEND5",
            "name": "Spend 5, 1.00 off caps",
            "kind": "threshold",
            "concurrency": "exclusive",
            "currency": "EUR",
            "items": {"skus": ["CAP"]},
            "tiers": [{"min_amount": "5.00", "method": "amount", "value": "1.00"}],
        },
    ]
    basket = run(docs, [line("1", "TEE", "20.00"), line("2", "CAP", "10.00")])
    tee, cap = by_id(basket)["1"], by_id(basket)["2"]
    assert [a.code for a in cap.discounts] == ["SPEND5"]
    assert {c.code: (c.why, c.reason) for c in tee.considered} == {
        "FIX50": (Why.BEATEN, "gave no lower price for this basket"),
    }
    assert {c.code: (c.why, c.reason) for c in cap.considered} == {
        "FIX50": (Why.EXCLUSIVE, "exclusive discount SPEND5 applies to these units"),
    }


def test_a_line_of_no_units_is_priced_at_nothing() -> None:
    """The basket parser refuses quantity 0, but the engine is called directly too (an
    offline till): a line of no units has no pieces left after the search, and thresholds
    must pass it by."""
    docs = [
        simple("TEE10", "10", items={"skus": ["TEE"]}),
        {
            "code": "SPEND5",
            "name": "Spend 5, 1.00 off",
            "kind": "threshold",
            "concurrency": "compounded",
            "currency": "EUR",
            "tiers": [{"min_amount": "5.00", "method": "amount", "value": "1.00"}],
        },
    ]
    basket = run(docs, [line("1", "TEE", "20.00", "0"), line("2", "CAP", "10.00")])
    empty, cap = by_id(basket)["1"], by_id(basket)["2"]
    assert (empty.net.amount, cap.net.amount) == (0, 9)
