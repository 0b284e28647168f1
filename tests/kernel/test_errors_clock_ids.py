"""Errors (one line for the CLI, status for the API), the frozen clock, ULID ids."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta, timezone

import pytest

from onestore.kernel import errors
from onestore.kernel.clock import FrozenClock, SystemClock, as_utc
from onestore.kernel.errors import FieldError, OnestoreError, ValidationFailed
from onestore.kernel.ids import is_id, new_id


# -- errors -------------------------------------------------------------------------------------
def test_one_line_is_the_detail_without_field_errors() -> None:
    assert errors.NotFound("no product P1").one_line == "no product P1"


def test_one_line_names_the_first_field_and_counts_the_rest() -> None:
    err = ValidationFailed(
        "3 fields are wrong",
        errors=[
            FieldError("lines.0.qty", "must be positive"),
            FieldError("currency", "unknown"),
            FieldError("sku", "required"),
        ],
    )
    assert err.one_line == "lines.0.qty: must be positive (and 2 more)"
    assert "\n" not in err.one_line
    single = ValidationFailed.on("price", "must be a decimal string")
    assert single.one_line == "price: must be a decimal string"
    assert single.errors[0].as_dict() == {"field": "price", "reason": "must be a decimal string"}


def test_every_error_type_has_a_distinct_slug_and_a_client_error_status() -> None:
    kinds = [
        cls
        for cls in vars(errors).values()
        if isinstance(cls, type) and issubclass(cls, OnestoreError)
    ]
    assert len(kinds) >= 12
    slugs = [k.slug for k in kinds]
    assert len(set(slugs)) == len(slugs)
    for kind in kinds:
        assert 400 <= kind.status < 600 and kind.status != 500, kind
        assert kind.title


def test_too_many_attempts_carries_retry_after() -> None:
    err = errors.TooManyAttempts("locked", retry_after=1800)
    assert (err.status, err.retry_after, err.one_line) == (429, 1800, "locked")


# -- clock --------------------------------------------------------------------------------------
def test_frozen_clock_moves_only_when_told() -> None:
    clock = FrozenClock(datetime(2026, 3, 1, 9, 0, tzinfo=UTC))
    assert clock.now() == clock.now() == datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    clock.advance(timedelta(minutes=15))
    assert clock.now() == datetime(2026, 3, 1, 9, 15, tzinfo=UTC)
    clock.set(datetime(2027, 1, 1, tzinfo=UTC))
    assert clock.now().year == 2027


def test_frozen_clock_refuses_a_naive_start() -> None:
    with pytest.raises(ValueError, match="timezone"):
        FrozenClock(datetime(2026, 1, 1))


def test_system_clock_is_utc_aware() -> None:
    now = SystemClock().now()
    assert now.tzinfo is not None and now.utcoffset() == timedelta(0)


def test_as_utc_attaches_or_converts_the_zone() -> None:
    naive = datetime(2026, 1, 1, 12, 0)
    assert as_utc(naive) == datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    tokyo = datetime(2026, 1, 1, 21, 0, tzinfo=timezone(timedelta(hours=9)))
    assert as_utc(tokyo) == datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    assert as_utc(tokyo).utcoffset() == timedelta(0)


# -- ids ----------------------------------------------------------------------------------------
def test_ids_are_ulids_unique_and_sortable_by_creation() -> None:
    made: list[str] = []
    lock = threading.Lock()

    def make() -> None:
        batch = [new_id() for _ in range(2_000)]
        with lock:
            made.extend(batch)

    threads = [threading.Thread(target=make) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(made)) == 8_000
    assert all(len(i) == 26 and is_id(i) for i in made)
    first = new_id()
    later = new_id()
    assert first[:10] <= later[:10]  # the 48-bit time prefix never goes backwards


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "01ARZ3NDEKTSV4RRFFQ69G5FA",
        "01ARZ3NDEKTSV4RRFFQ69G5FAVX",
        "01ARZ3NDEKTSV4RRFFQ69G5FAU",
        "01arz3ndektsv4rrffq69g5fav",
        "01ARZ3NDEKTSV4RRFFQ69G5FA\n",
        "' OR 1=1--",
        "8ZZZZZZZZZZZZZZZZZZZZZZZZZ",  # above 2**128: not a ULID
    ],
)
def test_is_id_refuses_anything_but_a_ulid(bad: str) -> None:
    assert not is_id(bad)
    assert is_id("01ARZ3NDEKTSV4RRFFQ69G5FAV")
