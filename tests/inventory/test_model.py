"""The pure rules: quantities, reason codes, availability, line normalisation and expiry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from onestore.inventory import model
from onestore.inventory.model import LineRequest, MovementKind, ReservationKind
from onestore.kernel.errors import ValidationFailed

NOW = datetime(2026, 1, 1, 12, tzinfo=UTC)


@pytest.mark.parametrize("value", [1, 7, model.MAX_QUANTITY])
def test_quantity_accepts_whole_positive_numbers(value: int) -> None:
    assert model.check_quantity(value) == value


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (0, "greater than 0"),
        (-3, "greater than 0"),
        (model.MAX_QUANTITY + 1, "at most"),
        (True, "whole number"),
        (1.0, "whole number"),
        (1.5, "whole number"),
        (Decimal("2"), "whole number"),
        ("5", "whole number"),
        (None, "whole number"),
    ],
)
def test_quantity_refuses_the_rest_naming_the_field(value: object, reason: str) -> None:
    with pytest.raises(ValidationFailed) as err:
        model.check_quantity(value, "lines.2.quantity")
    assert err.value.errors[0].field == "lines.2.quantity"
    assert reason in err.value.errors[0].reason


def test_delta_is_signed_but_not_zero() -> None:
    assert model.check_delta(-5) == -5
    for bad in (0, model.MAX_QUANTITY + 1, -model.MAX_QUANTITY - 1, False, 2.0):
        with pytest.raises(ValidationFailed):
            model.check_delta(bad)


def test_adjustments_and_damage_need_a_reason() -> None:
    assert {MovementKind.ADJUSTMENT, MovementKind.DAMAGE} == model.REASON_REQUIRED
    for kind in model.REASON_REQUIRED:
        for missing in (None, "", "   "):
            with pytest.raises(ValidationFailed) as err:
                model.check_reason(kind, missing)
            assert err.value.errors[0].field == "reason_code"
    assert model.check_reason(MovementKind.RECEIPT, None) is None
    assert model.check_reason(MovementKind.DAMAGE, "broken") == "broken"


def test_available_is_on_hand_less_reserved_and_buffer_never_below_zero() -> None:
    assert model.available(10, 3, 2) == 5
    assert model.available(10, 8, 5) == 0
    assert model.available(-4, 0, 0) == 0


def test_normalise_merges_duplicates_and_sorts_in_lock_order() -> None:
    lines = [
        LineRequest("V2", "L1", 1, 0, "S-V2", "L1"),
        LineRequest("V1", "L2", 2, 1, "S-V1", "L2"),
        LineRequest("V2", "L1", 3, 2, "S-V2", "L1"),
        LineRequest("V1", "L1", 4, 3, "S-V1", "L1"),
    ]
    out = model.normalise_lines(lines)
    assert [(ln.variant_id, ln.location_id, ln.quantity) for ln in out] == [
        ("V1", "L1", 4),
        ("V1", "L2", 2),
        ("V2", "L1", 4),
    ]
    assert out[2].indexes == (0, 2) and out[2].field == "lines.0.quantity"


def test_normalise_refuses_empty_bad_and_merged_overflow() -> None:
    with pytest.raises(ValidationFailed):
        model.normalise_lines([])
    with pytest.raises(ValidationFailed) as err:
        model.normalise_lines([LineRequest("V", "L", 0, 0, "S-V", "L")])
    assert err.value.errors[0].field == "lines.0.quantity"
    half = model.MAX_QUANTITY // 2 + 1
    with pytest.raises(ValidationFailed) as err:
        model.normalise_lines(
            [LineRequest("V", "L", half, 0, "S-V", "L"), LineRequest("V", "L", half, 1, "S-V", "L")]
        )
    assert err.value.errors[0].field == "lines.1.quantity"


def test_soft_reservations_need_a_ttl_in_range_and_order_ones_none() -> None:
    assert model.soft_expiry(ReservationKind.SOFT, NOW, timedelta(minutes=15)) == NOW + timedelta(
        minutes=15
    )
    assert model.soft_expiry(ReservationKind.ORDER, NOW, None) is None
    for kind, ttl in [
        (ReservationKind.SOFT, None),
        (ReservationKind.SOFT, timedelta(0)),
        (ReservationKind.SOFT, timedelta(days=8)),
        (ReservationKind.ORDER, timedelta(minutes=1)),
    ]:
        with pytest.raises(ValidationFailed) as err:
            model.soft_expiry(kind, NOW, ttl)
        assert err.value.errors[0].field == "ttl_seconds"


def test_lapsed_means_soft_and_at_or_past_expiry() -> None:
    assert model.is_lapsed(ReservationKind.SOFT, NOW, NOW)
    assert not model.is_lapsed(ReservationKind.SOFT, NOW + timedelta(seconds=1), NOW)
    assert not model.is_lapsed(ReservationKind.ORDER, None, NOW)
